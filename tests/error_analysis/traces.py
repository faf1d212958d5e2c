"""Real-world stack traces (shapes as the runtimes and frameworks print them), with what must be read from each."""

# ruff: noqa: E501 - traces and log lines are kept verbatim, as long as the runtimes print them

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Trace:
    name: str
    language: str
    text: str
    exception_type: str
    message_starts: str
    file: str | None  # the innermost frame of the user's own code; None when every frame is a library's
    line: int | None = None
    function: str | None = None
    hint: str | None = None  # error.language as a client would send it


PYTHON = [
    Trace(
        "django_does_not_exist",
        "python",
        """Traceback (most recent call last):
  File "/srv/shop/.venv/lib/python3.11/site-packages/django/core/handlers/exception.py", line 55, in inner
    response = get_response(request)
  File "/srv/shop/.venv/lib/python3.11/site-packages/django/core/handlers/base.py", line 197, in _get_response
    response = wrapped_callback(request, *callback_args, **callback_kwargs)
  File "/srv/shop/accounts/views.py", line 42, in profile
    user = User.objects.get(pk=user_id)
  File "/srv/shop/.venv/lib/python3.11/site-packages/django/db/models/manager.py", line 87, in manager_method
    return getattr(self.get_queryset(), name)(*args, **kwargs)
  File "/srv/shop/.venv/lib/python3.11/site-packages/django/db/models/query.py", line 637, in get
    raise self.model.DoesNotExist(
accounts.models.User.DoesNotExist: User matching query does not exist.""",
        "accounts.models.User.DoesNotExist",
        "User matching query does not exist.",
        "/srv/shop/accounts/views.py",
        42,
        "profile",
    ),
    Trace(
        "flask_key_error_under_gunicorn",
        "python",
        """[2024-03-02 14:11:09,331] ERROR in app: Exception on /api/orders [POST]
Traceback (most recent call last):
  File "/usr/local/lib/python3.12/site-packages/flask/app.py", line 1463, in wsgi_app
    response = self.full_dispatch_request()
  File "/usr/local/lib/python3.12/site-packages/flask/app.py", line 872, in full_dispatch_request
    rv = self.dispatch_request()
  File "/usr/local/lib/python3.12/site-packages/flask/app.py", line 855, in dispatch_request
    return self.ensure_sync(self.view_functions[rule.endpoint])(**view_args)  # type: ignore[no-any-return]
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/app/orders/api.py", line 27, in create_order
    quantity = payload["quantity"]
               ~~~~~~~^^^^^^^^^^^^
KeyError: 'quantity'""",
        "KeyError",
        "'quantity'",
        "/app/orders/api.py",
        27,
        "create_order",
    ),
    Trace(
        "requests_connection_error_chained",
        "python",
        """Traceback (most recent call last):
  File "/opt/venv/lib/python3.11/site-packages/urllib3/connection.py", line 203, in _new_conn
    sock = connection.create_connection(
  File "/opt/venv/lib/python3.11/site-packages/urllib3/util/connection.py", line 85, in create_connection
    raise err
ConnectionRefusedError: [Errno 111] Connection refused

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/opt/venv/lib/python3.11/site-packages/urllib3/connectionpool.py", line 791, in urlopen
    response = self._make_request(
urllib3.exceptions.NewConnectionError: <urllib3.connection.HTTPConnection object at 0x7f3b2c1d0a90>: Failed to establish a new connection: [Errno 111] Connection refused

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/home/dev/billing/billing/client.py", line 31, in fetch_invoice
    response = self.session.get(f"{self.base_url}/invoices/{invoice_id}", timeout=5)
  File "/opt/venv/lib/python3.11/site-packages/requests/sessions.py", line 602, in get
    return self.request("GET", url, **kwargs)
  File "/opt/venv/lib/python3.11/site-packages/requests/adapters.py", line 519, in send
    raise ConnectionError(e, request=request)
requests.exceptions.ConnectionError: HTTPConnectionPool(host='localhost', port=8081): Max retries exceeded with url: /invoices/42""",
        "requests.exceptions.ConnectionError",
        "HTTPConnectionPool(host='localhost', port=8081)",
        "/home/dev/billing/billing/client.py",
        31,
        "fetch_invoice",
    ),
    Trace(
        "sqlalchemy_integrity_error_from_psycopg",
        "python",
        """Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/sqlalchemy/engine/base.py", line 1910, in _execute_context
    self.dialect.do_execute(
psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "users_email_key"
DETAIL:  Key (email)=(someone) already exists.


The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/home/ops/signup/signup/service.py", line 58, in register
    session.commit()
  File "/usr/lib/python3/dist-packages/sqlalchemy/orm/session.py", line 1451, in commit
    self._transaction.commit(_to_root=self.future)
  File "/usr/lib/python3/dist-packages/sqlalchemy/engine/default.py", line 736, in do_execute
    cursor.execute(statement, parameters)
sqlalchemy.exc.IntegrityError: (psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint "users_email_key"
DETAIL:  Key (email)=(someone) already exists.
[SQL: INSERT INTO users (email, name) VALUES (%(email)s, %(name)s) RETURNING users.id]""",
        "sqlalchemy.exc.IntegrityError",
        "(psycopg2.errors.UniqueViolation) duplicate key value",
        "/home/ops/signup/signup/service.py",
        58,
        "register",
    ),
    Trace(
        "python_311_type_error_with_carets",
        "python",
        """Traceback (most recent call last):
  File "/workspace/pricing/run.py", line 9, in <module>
    print(total([{"price": "9.99", "qty": 2}]))
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/workspace/pricing/cart.py", line 4, in total
    return sum(item["price"] * item["qty"] + shipping for item in items)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/workspace/pricing/cart.py", line 4, in <genexpr>
    return sum(item["price"] * item["qty"] + shipping for item in items)
               ~~~~~~~~~~~~~~~~~~~~~~~~~~~~^~~~~~~~~~
TypeError: can only concatenate str (not "float") to str""",
        "TypeError",
        "can only concatenate str",
        "/workspace/pricing/cart.py",
        4,
        "<genexpr>",
    ),
    Trace(
        "asyncio_task_in_worker",
        "python",
        """Task exception was never retrieved
future: <Task finished name='Task-3' coro=<sync_orders() done, defined at /app/worker/tasks.py:18> exception=AttributeError("'NoneType' object has no attribute 'items'")>
Traceback (most recent call last):
  File "/usr/local/lib/python3.12/asyncio/runners.py", line 118, in run
    return self._loop.run_until_complete(task)
  File "/usr/local/lib/python3.12/asyncio/base_events.py", line 687, in run_until_complete
    return future.result()
  File "/app/worker/tasks.py", line 24, in sync_orders
    for order_id, order in page.items():
                           ^^^^^^^^^^
AttributeError: 'NoneType' object has no attribute 'items'""",
        "AttributeError",
        "'NoneType' object has no attribute 'items'",
        "/app/worker/tasks.py",
        24,
        "sync_orders",
    ),
    Trace(
        "aws_lambda_error_line_above",
        "python",
        """[ERROR] KeyError: 'body'
Traceback (most recent call last):
  File "/var/task/app.py", line 15, in lambda_handler
    payload = json.loads(event["body"])""",
        "KeyError",
        "'body'",
        "/var/task/app.py",
        15,
        "lambda_handler",
    ),
    Trace(
        "json_decode_error_in_stdlib",
        "python",
        """Traceback (most recent call last):
  File "/app/config/loader.py", line 12, in load
    return json.loads(raw)
  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads
    return _default_decoder.decode(s)
  File "/usr/lib/python3.11/json/decoder.py", line 337, in decode
    obj, end = self.raw_decode(s, idx=_w(s, 0).end())
  File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode
    raise JSONDecodeError("Expecting value", s, err.value) from None
json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)""",
        "json.decoder.JSONDecodeError",
        "Expecting value: line 1 column 1",
        "/app/config/loader.py",
        12,
        "load",
    ),
    Trace(
        "syntax_error_on_import_through_frozen_frames",
        "python",
        """Traceback (most recent call last):
  File "/app/manage.py", line 22, in <module>
    main()
  File "/usr/local/lib/python3.11/site-packages/django/urls/resolvers.py", line 718, in urlconf_module
    return import_module(self.urlconf_name)
  File "<frozen importlib._bootstrap>", line 1204, in _gcd_import
  File "<frozen importlib._bootstrap_external>", line 936, in exec_module
  File "/app/shop/urls.py", line 14
    path("cart/", views.cart, name="cart"
        ^
SyntaxError: '(' was never closed""",
        "SyntaxError",
        "'(' was never closed",
        "/app/shop/urls.py",
        14,
        None,
    ),
    Trace(
        "windows_paths_and_stdlib",
        "python",
        r"""Traceback (most recent call last):
  File "C:\Projects\report\make_report.py", line 33, in <module>
    rows = read_rows(path)
  File "C:\Projects\report\make_report.py", line 12, in read_rows
    with open(path, encoding="utf-8") as handle:
  File "C:\Program Files\Python311\Lib\codecs.py", line 322, in decode
    (result, consumed) = self._buffer_decode(data, self.errors, final)
UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe9 in position 1022: invalid continuation byte""",
        "UnicodeDecodeError",
        "'utf-8' codec can't decode byte",
        r"C:\Projects\report\make_report.py",
        12,
        "read_rows",
    ),
]

JAVASCRIPT = [
    Trace(
        "node_type_error_with_source_excerpt",
        "javascript",
        """/app/src/routes/users.js:12
    const name = req.user.profile.name;
                                  ^

TypeError: Cannot read properties of undefined (reading 'name')
    at getProfile (/app/src/routes/users.js:12:35)
    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)
    at next (/app/node_modules/express/lib/router/route.js:144:13)
    at Route.dispatch (/app/node_modules/express/lib/router/route.js:114:3)
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)""",
        "TypeError",
        "Cannot read properties of undefined (reading 'name')",
        "/app/src/routes/users.js",
        12,
        "getProfile",
    ),
    Trace(
        "axios_error_with_async_frames",
        "javascript",
        """AxiosError: Request failed with status code 404
    at settle (/srv/api/node_modules/axios/dist/node/axios.cjs:1966:12)
    at IncomingMessage.handleStreamEnd (/srv/api/node_modules/axios/dist/node/axios.cjs:3065:11)
    at IncomingMessage.emit (node:events:529:35)
    at endReadableNT (node:internal/streams/readable:1400:12)
    at process.processTicksAndRejections (node:internal/process/task_queues:82:21)
    at async fetchRepo (/srv/api/src/services/github.js:18:20)
    at async /srv/api/src/routes/repos.js:9:18""",
        "AxiosError",
        "Request failed with status code 404",
        "/srv/api/src/services/github.js",
        18,
        "fetchRepo",
    ),
    Trace(
        "nestjs_typescript_compiled_to_dist",
        "javascript",
        """[Nest] 4821  - 01/15/2024, 10:23:45 AM   ERROR [ExceptionsHandler] Cannot read properties of null (reading 'id')
TypeError: Cannot read properties of null (reading 'id')
    at OrdersService.create (/usr/src/app/dist/orders/orders.service.js:38:45)
    at OrdersController.create (/usr/src/app/dist/orders/orders.controller.js:27:35)
    at /usr/src/app/node_modules/@nestjs/core/router/router-execution-context.js:38:29
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)""",
        "TypeError",
        "Cannot read properties of null (reading 'id')",
        "/usr/src/app/dist/orders/orders.service.js",
        38,
        "OrdersService.create",
        hint="typescript",
    ),
    Trace(
        "react_in_chrome_with_source_maps",
        "javascript",
        """Uncaught TypeError: items.map is not a function
    at TodoList (TodoList.jsx:14:20)
    at renderWithHooks (react-dom.development.js:16305:18)
    at mountIndeterminateComponent (react-dom.development.js:20074:13)
    at beginWork (react-dom.development.js:21587:16)
    at HTMLUnknownElement.callCallback (react-dom.development.js:4164:14)""",
        "TypeError",
        "items.map is not a function",
        "TodoList.jsx",
        14,
        "TodoList",
        hint="react",
    ),
    Trace(
        "firefox_stack",
        "javascript",
        """TypeError: cart.total is undefined
checkout@http://localhost:3000/static/js/main.chunk.js:212:19
dispatch@http://localhost:3000/static/js/vendors~main.chunk.js:4123:11
onClick@http://localhost:3000/static/js/main.chunk.js:188:7""",
        "TypeError",
        "cart.total is undefined",
        "http://localhost:3000/static/js/main.chunk.js",
        212,
        "checkout",
    ),
    Trace(
        "node_esm_file_urls",
        "javascript",
        """file:///home/carol/app/src/config.mjs:8
  throw new Error(`Missing environment variable ${name}`);
        ^

Error: Missing environment variable DATABASE_URL
    at requireEnv (file:///home/carol/app/src/config.mjs:8:9)
    at file:///home/carol/app/src/index.mjs:3:17
    at ModuleJob.run (node:internal/modules/esm/module_job:194:25)

Node.js v20.11.0""",
        "Error",
        "Missing environment variable DATABASE_URL",
        "/home/carol/app/src/config.mjs",
        8,
        "requireEnv",
    ),
    Trace(
        "node_enoent_with_error_fields",
        "javascript",
        """node:fs:601
  handleErrorFromBinding(ctx);
  ^

Error: ENOENT: no such file or directory, open './data/users.json'
    at Object.openSync (node:fs:601:3)
    at Object.readFileSync (node:fs:469:35)
    at loadUsers (/opt/app/lib/store.js:7:22)
    at Object.<anonymous> (/opt/app/index.js:4:15)
    at Module._compile (node:internal/modules/cjs/loader:1256:14) {
  errno: -2,
  syscall: 'open',
  code: 'ENOENT',
  path: './data/users.json'
}""",
        "Error",
        "ENOENT: no such file or directory",
        "/opt/app/lib/store.js",
        7,
        "loadUsers",
    ),
    Trace(
        "prisma_in_nextjs_route_handler",
        "javascript",
        """PrismaClientKnownRequestError:
Invalid `prisma.user.create()` invocation in
/home/dev/shop/src/app/api/users/route.ts:14:36

  11 export async function POST(req: Request) {
→ 14   const user = await prisma.user.create(
Unique constraint failed on the fields: (`email`)
    at In.handleRequestError (/home/dev/shop/node_modules/@prisma/client/runtime/library.js:122:6877)
    at In.handleAndLogRequestError (/home/dev/shop/node_modules/@prisma/client/runtime/library.js:122:6211)
    at async POST (webpack-internal:///(rsc)/./src/app/api/users/route.ts:18:22)""",
        "PrismaClientKnownRequestError",
        "",
        "./src/app/api/users/route.ts",
        18,
        "POST",
        hint="ts",
    ),
    Trace(
        "old_node_eaddrinuse_with_bare_core_files",
        "javascript",
        """events.js:377
      throw er; // Unhandled 'error' event
      ^

Error: listen EADDRINUSE: address already in use :::3000
    at Server.setupListenHandle [as _listen2] (net.js:1331:16)
    at listenInCluster (net.js:1379:12)
    at Server.listen (net.js:1465:7)
    at Function.listen (/home/dan/api/node_modules/express/lib/application.js:618:24)
    at Object.<anonymous> (/home/dan/api/server.js:25:5)
    at Module._compile (internal/modules/cjs/loader.js:1085:14)""",
        "Error",
        "listen EADDRINUSE: address already in use",
        "/home/dan/api/server.js",
        25,
        "Object.<anonymous>",
    ),
]

JAVA = [
    Trace(
        "spring_npe_wrapped_in_nested_servlet_exception",
        "java",
        """2024-01-15 10:23:45.123 ERROR 1 --- [nio-8080-exec-1] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] threw exception
org.springframework.web.util.NestedServletException: Request processing failed; nested exception is java.lang.NullPointerException: Cannot invoke "String.length()" because "name" is null
	at org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014)
	at javax.servlet.http.HttpServlet.service(HttpServlet.java:681)
Caused by: java.lang.NullPointerException: Cannot invoke "String.length()" because "name" is null
	at com.acme.users.UserService.normalise(UserService.java:57)
	at com.acme.users.UserController.create(UserController.java:31)
	at java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)
	at org.springframework.web.method.support.InvocableHandlerMethod.doInvoke(InvocableHandlerMethod.java:205)
	... 48 common frames omitted""",
        "java.lang.NullPointerException",
        'Cannot invoke "String.length()"',
        "UserService.java",
        57,
        "com.acme.users.UserService.normalise",
    ),
    Trace(
        "hibernate_lazy_initialization_in_a_stream_lambda",
        "java",
        """org.hibernate.LazyInitializationException: failed to lazily initialize a collection of role: com.shop.domain.Order.items, could not initialize proxy - no Session
	at org.hibernate.collection.internal.AbstractPersistentCollection.throwLazyInitializationException(AbstractPersistentCollection.java:606)
	at org.hibernate.collection.internal.AbstractPersistentCollection.withTemporarySessionIfNeeded(AbstractPersistentCollection.java:218)
	at org.hibernate.collection.internal.PersistentBag.iterator(PersistentBag.java:387)
	at com.shop.web.OrderMapper.toDto(OrderMapper.java:29)
	at com.shop.web.OrderController.lambda$list$0(OrderController.java:44)
	at java.base/java.util.stream.ReferencePipeline$3$1.accept(ReferencePipeline.java:197)""",
        "org.hibernate.LazyInitializationException",
        "failed to lazily initialize",
        "OrderMapper.java",
        29,
        "com.shop.web.OrderMapper.toDto",
    ),
    Trace(
        "root_cause_in_the_jdbc_driver_user_frame_in_the_wrapper",
        "java",
        """org.springframework.dao.DataIntegrityViolationException: could not execute statement; SQL [n/a]; constraint [users_email_key]; nested exception is org.hibernate.exception.ConstraintViolationException: could not execute statement
	at org.springframework.orm.jpa.vendor.HibernateJpaDialect.convertHibernateAccessException(HibernateJpaDialect.java:276)
	at org.springframework.dao.support.PersistenceExceptionTranslationInterceptor.invoke(PersistenceExceptionTranslationInterceptor.java:152)
	at com.sun.proxy.$Proxy142.save(Unknown Source)
	at com.acme.accounts.AccountService.register(AccountService.java:64)
	at com.acme.accounts.AccountController.signUp(AccountController.java:38)
	at java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)
Caused by: org.hibernate.exception.ConstraintViolationException: could not execute statement
	at org.hibernate.exception.internal.SQLStateConversionDelegate.convert(SQLStateConversionDelegate.java:59)
	at org.hibernate.engine.jdbc.spi.SqlExceptionHelper.convert(SqlExceptionHelper.java:113)
	... 96 more
Caused by: org.postgresql.util.PSQLException: ERROR: duplicate key value violates unique constraint "users_email_key"
  Detail: Key (email)=(someone) already exists.
	at org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2675)
	at org.postgresql.jdbc.PgPreparedStatement.executeUpdate(PgPreparedStatement.java:152)
	at com.zaxxer.hikari.pool.HikariProxyPreparedStatement.executeUpdate(HikariProxyPreparedStatement.java)
	... 110 more""",
        "org.postgresql.util.PSQLException",
        "ERROR: duplicate key value",
        "AccountService.java",
        64,
        "com.acme.accounts.AccountService.register",
    ),
    Trace(
        "plain_java_main_array_index",
        "java",
        """Exception in thread "main" java.lang.ArrayIndexOutOfBoundsException: Index 5 out of bounds for length 5
	at com.example.matrix.Matrix.get(Matrix.java:23)
	at com.example.matrix.Main.main(Main.java:9)""",
        "java.lang.ArrayIndexOutOfBoundsException",
        "Index 5 out of bounds for length 5",
        "Matrix.java",
        23,
        "com.example.matrix.Matrix.get",
    ),
    Trace(
        "kotlin_coroutine_lateinit",
        "java",
        """Exception in thread "DefaultDispatcher-worker-1" kotlin.UninitializedPropertyAccessException: lateinit property repository has not been initialized
	at io.acme.sync.SyncJob.getRepository(SyncJob.kt:12)
	at io.acme.sync.SyncJob$run$1.invokeSuspend(SyncJob.kt:21)
	at kotlin.coroutines.jvm.internal.BaseContinuationImpl.resumeWith(ContinuationImpl.kt:33)
	at kotlinx.coroutines.DispatchedTask.run(DispatchedTask.kt:106)""",
        "kotlin.UninitializedPropertyAccessException",
        "lateinit property repository",
        "SyncJob.kt",
        12,
        "io.acme.sync.SyncJob.getRepository",
        hint="kotlin",
    ),
    Trace(
        "jackson_mismatched_input_with_source_line",
        "java",
        """com.fasterxml.jackson.databind.exc.MismatchedInputException: Cannot deserialize value of type `java.util.ArrayList<com.acme.catalog.Product>` from Object value (token `JsonToken.START_OBJECT`)
 at [Source: (String)"{"items": []}"; line: 1, column: 1]
	at com.fasterxml.jackson.databind.exc.MismatchedInputException.from(MismatchedInputException.java:59)
	at com.fasterxml.jackson.databind.ObjectMapper.readValue(ObjectMapper.java:3548)
	at com.acme.catalog.CatalogClient.fetchProducts(CatalogClient.java:41)
	at com.acme.catalog.CatalogService.refresh(CatalogService.java:27)""",
        "com.fasterxml.jackson.databind.exc.MismatchedInputException",
        "Cannot deserialize value of type",
        "CatalogClient.java",
        41,
        "com.acme.catalog.CatalogClient.fetchProducts",
    ),
    Trace(
        "spring_boot_startup_missing_bean",
        "java",
        """org.springframework.beans.factory.UnsatisfiedDependencyException: Error creating bean with name 'orderController': Unsatisfied dependency expressed through constructor parameter 0
	at org.springframework.beans.factory.support.ConstructorResolver.createArgumentArray(ConstructorResolver.java:801)
	at org.springframework.boot.SpringApplication.run(SpringApplication.java:1306)
	at com.acme.orders.OrdersApplication.main(OrdersApplication.java:10)
Caused by: org.springframework.beans.factory.NoSuchBeanDefinitionException: No qualifying bean of type 'com.acme.orders.PaymentGateway' available
	at org.springframework.beans.factory.support.DefaultListableBeanFactory.raiseNoMatchingBeanFound(DefaultListableBeanFactory.java:1801)
	... 20 common frames omitted""",
        "org.springframework.beans.factory.NoSuchBeanDefinitionException",
        "No qualifying bean of type",
        "OrdersApplication.java",
        10,
        "com.acme.orders.OrdersApplication.main",
    ),
    Trace(
        "gradle_junit_with_classloader_prefixes",
        "java",
        """java.time.format.DateTimeParseException: Text '2024-13-01' could not be parsed: Invalid value for MonthOfYear (valid values 1 - 12): 13
	at java.base/java.time.format.DateTimeFormatter.createError(DateTimeFormatter.java:2023)
	at java.base/java.time.LocalDate.parse(LocalDate.java:430)
	at app//com.acme.util.Dates.parse(Dates.java:18)
	at app//com.acme.util.DatesTest.parsesIsoDates(DatesTest.java:14)
	at java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)
	at app//org.junit.platform.commons.util.ReflectionUtils.invokeMethod(ReflectionUtils.java:727)""",
        "java.time.format.DateTimeParseException",
        "Text '2024-13-01' could not be parsed",
        "Dates.java",
        18,
        "com.acme.util.Dates.parse",
    ),
]

GO = [
    Trace(
        "index_out_of_range",
        "go",
        """panic: runtime error: index out of range [5] with length 3

goroutine 1 [running]:
main.pick(...)
	/home/bob/src/picker/main.go:12
main.main()
	/home/bob/src/picker/main.go:7 +0x1d
exit status 2""",
        "runtime.Error",
        "index out of range [5] with length 3",
        "/home/bob/src/picker/main.go",
        12,
        "main.pick",
    ),
    Trace(
        "nil_pointer_in_http_handler_recovered_by_net_http",
        "go",
        """2024/01/15 10:23:45 http: panic serving 127.0.0.1:53422: runtime error: invalid memory address or nil pointer dereference
goroutine 34 [running]:
net/http.(*conn).serve.func1()
	/usr/local/go/src/net/http/server.go:1868 +0xb9
panic({0x6c4e20?, 0x9a4b90?})
	/usr/local/go/src/runtime/panic.go:920 +0x270
github.com/acme/shop/internal/orders.(*Handler).Get(0xc0000a6000, {0x7f2e18, 0xc0001c21c0}, 0xc0001b0300)
	/app/internal/orders/handler.go:48 +0x5a
net/http.HandlerFunc.ServeHTTP(0x0?, {0x7f2e18?, 0xc0001c21c0?}, 0x0?)
	/usr/local/go/src/net/http/server.go:2136 +0x29""",
        "runtime.Error",
        "invalid memory address or nil pointer dereference",
        "/app/internal/orders/handler.go",
        48,
        "github.com/acme/shop/internal/orders.(*Handler).Get",
    ),
    Trace(
        "pkg_errors_wrapped_with_stack",
        "go",
        """open /etc/shop/config.yaml: no such file or directory
failed to read config
main.loadConfig
	/home/erin/shop/cmd/server/config.go:22
main.run
	/home/erin/shop/cmd/server/main.go:31
main.main
	/home/erin/shop/cmd/server/main.go:15
runtime.main
	/usr/local/go/src/runtime/proc.go:267
runtime.goexit
	/usr/local/go/src/runtime/asm_amd64.s:1650""",
        "*fs.PathError",
        "open /etc/shop/config.yaml: no such file or directory",
        "/home/erin/shop/cmd/server/config.go",
        22,
        "main.loadConfig",
    ),
    Trace(
        "fmt_errorf_chain_from_log_fatal",
        "go",
        """2024/01/15 10:23:45 sync orders: fetch page 3: Get "https://api.acme.io/v1/orders?page=3": context deadline exceeded (Client.Timeout exceeded while awaiting headers)
exit status 1""",
        "context.DeadlineExceeded",
        "sync orders: fetch page 3",
        None,
        hint="go",
    ),
    Trace(
        "deadlock_goroutine_dump",
        "go",
        """fatal error: all goroutines are asleep - deadlock!

goroutine 1 [chan receive]:
main.main()
	/home/frank/pipeline/main.go:18 +0x8c

goroutine 6 [chan send]:
main.producer(0xc000020120)
	/home/frank/pipeline/main.go:9 +0x3d
created by main.main in goroutine 1
	/home/frank/pipeline/main.go:15 +0x5a
exit status 2""",
        "fatal error",
        "all goroutines are asleep - deadlock!",
        "/home/frank/pipeline/main.go",
        18,
        "main.main",
    ),
    Trace(
        "concurrent_map_writes_with_frame_pointers",
        "go",
        """fatal error: concurrent map writes

goroutine 23 [running]:
runtime.throw({0x4b8f4a?, 0x0?})
	/usr/local/go/src/runtime/panic.go:1077 +0x5c fp=0xc000057f18 sp=0xc000057ee8 pc=0x4327dc
runtime.mapassign_faststr(0x4a1f20, 0xc000076180, {0x4b5a1e, 0x3})
	/usr/local/go/src/runtime/map_faststr.go:211 +0x1a5 fp=0xc000057f80 sp=0xc000057f18 pc=0x40f645
github.com/acme/cache.(*Store).Set(...)
	/go/src/github.com/acme/cache/store.go:41
github.com/acme/cache.(*Store).Warm.func1(0x0?)
	/go/src/github.com/acme/cache/store.go:58 +0x95 fp=0xc000057fe0 sp=0xc000057f80 pc=0x48d6f5
created by github.com/acme/cache.(*Store).Warm in goroutine 1
	/go/src/github.com/acme/cache/store.go:55 +0x4a

goroutine 1 [semacquire]:
sync.runtime_Semacquire(0xc0000a2018?)
	/usr/local/go/src/runtime/sema.go:62 +0x25""",
        "fatal error",
        "concurrent map writes",
        "/go/src/github.com/acme/cache/store.go",
        41,
        "github.com/acme/cache.(*Store).Set",
    ),
    Trace(
        "interface_conversion_recovered_by_gin",
        "go",
        """panic: interface conversion: interface {} is string, not float64 [recovered]
	panic: interface conversion: interface {} is string, not float64

goroutine 50 [running]:
github.com/gin-gonic/gin.CustomRecoveryWithWriter.func1.1()
	/root/go/pkg/mod/github.com/gin-gonic/gin@v1.9.1/recovery.go:101 +0x7a
panic({0x9d3f60?, 0xc0003a8f30?})
	/usr/local/go/src/runtime/panic.go:914 +0x21f
github.com/acme/billing/api.parseAmount(...)
	/srv/billing/api/amount.go:17
github.com/acme/billing/api.CreateInvoice(0xc000212100)
	/srv/billing/api/invoice.go:33 +0x3b6
github.com/gin-gonic/gin.(*Context).Next(...)
	/root/go/pkg/mod/github.com/gin-gonic/gin@v1.9.1/context.go:174""",
        "*runtime.TypeAssertionError",
        "interface conversion: interface {} is string, not float64",
        "/srv/billing/api/amount.go",
        17,
        "github.com/acme/billing/api.parseAmount",
    ),
    Trace(
        "trimpath_build_nil_map",
        "go",
        """panic: assignment to entry in nil map

goroutine 1 [running]:
example.com/inventory/stock.(*Ledger).Add(...)
	example.com/inventory/stock/ledger.go:27
main.main()
	example.com/inventory/cmd/inv/main.go:12 +0x45""",
        "panic",
        "assignment to entry in nil map",
        "example.com/inventory/stock/ledger.go",
        27,
        "example.com/inventory/stock.(*Ledger).Add",
        hint="golang",
    ),
]

TRACES = PYTHON + JAVASCRIPT + JAVA + GO
