"""Strings with secrets and personal data, as they turn up in error messages, stacks, code and config.

The fake keys are assembled from pieces so that secret scanners in front of a repository do not take
this file for a leak; each has the real shape (prefix, alphabet, length) of its provider's keys.
"""

# ruff: noqa: E501 - traces and log lines are kept verbatim, as long as the runtimes print them

from __future__ import annotations

from dataclasses import dataclass, field


def _key(*parts: str) -> str:
    return "".join(parts)


OPENAI = _key("sk-proj-", "Xk3v9QpL2mN8rT5wY7zA1bC4", "dE6fG0hJ2kL4mN6pQ8rS")
OPENAI_LEGACY = _key("sk-", "4f8Kq2LmN9pR3sT6vW1xY5zA7bC0dE2fG4hJ6kL8mN0pQ2rS")
ANTHROPIC = _key("sk-ant-", "api03-", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlMnOpQrSt-Aa1Bb2AA")
GOOGLE = _key("AIza", "SyD3x9Kq2LmN8pR4sT6vW1xY5zA7bC0dE2f")
HUGGINGFACE = _key("hf_", "AbCdEfGhIjKlMnOpQrStUvWxYz01234567")
GITHUB = _key("ghp_", "1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R")
GITHUB_FINE = _key("github_pat_", "11ABCDEFG0123456789abc_", "defGHIjklMNOpqrSTUvwxYZ0123456789abcdefGHIJKLmnopqrSTUV")
SLACK = _key("xoxb-", "2048163904-", "5012874365123-", "QwErTyUiOpAsDfGhJkLzXcVb")
SLACK_WEBHOOK = _key("https://hooks.slack.com/services/", "T024BE7LD/", "B01ABCDEF12/", "r2D2c3P0x9y8z7w6v5u4t3s2")
STRIPE = _key("sk_live_", "51H8xYzAbCdEfGhIjKlMnOpQrStUvWx")
STRIPE_RESTRICTED = _key("rk_live_", "51H8xYzQwErTyUiOpAsDfGhJk")
STRIPE_WEBHOOK = _key("whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLSaa")
SENDGRID = _key("SG.", "ngeVfQFYQlKU0ufo8x5d1A", ".", "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr")
GITLAB = _key("glpat-", "xYz12AbCdEfGhIjKlMn3")
NPM = _key("npm_", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789")
AWS_ID = _key("AKIA", "IOSFODNN7", "EXAMPLE")
AWS_TEMP_ID = _key("ASIA", "Y34FZKBOKMUTVV7A")
AWS_SECRET = _key("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY")
JWT = _key(
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.",
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.",
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
)
GOOGLE_OAUTH = _key("ya29.", "a0AfH6SMBx3kQ9pL2mN8rT5wY7zA1bC4dE6fG")
PEM = _key(
    "-----BEGIN RSA PRIVATE KEY-----\n",
    "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi1vLxe2vZ5qA8dJ1mrOy0fW2Ek\n",
    "q3mPz9Xb7aFvC4kD2sQ1eR8tY6uI0oP5lK3jH9gF2dS4aZ7xC1vB8nM6qW0eR5tY\n",
    "-----END RSA PRIVATE KEY-----",
)


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    secrets: tuple[str, ...]  # each must be gone from the redacted text
    kinds: dict[str, int]  # exactly these placeholders, this many times
    survives: tuple[str, ...] = field(default=())  # ordinary text that must stay as it is


CASES = [
    Case(
        "openai_key_in_a_python_auth_error",
        f"openai.AuthenticationError: Error code: 401 - Incorrect API key provided: {OPENAI}. See https://platform.openai.com/account/api-keys",
        (OPENAI,),
        {"openai_key": 1},
        ("openai.AuthenticationError", "Error code: 401", "https://platform.openai.com/account/api-keys"),
    ),
    Case(
        "legacy_openai_key_in_code",
        f'client = OpenAI(api_key="{OPENAI_LEGACY}")\nresp = client.chat.completions.create(model="gpt-4o-mini")',
        (OPENAI_LEGACY,),
        {"openai_key": 1},
        ('model="gpt-4o-mini"', "client.chat.completions.create"),
    ),
    Case(
        "anthropic_key_in_an_env_dump",
        f"ANTHROPIC_API_KEY={ANTHROPIC}\nANTHROPIC_MODEL=claude-3-5-sonnet-20241022",
        (ANTHROPIC,),
        {"anthropic_key": 1},
        ("ANTHROPIC_MODEL=claude-3-5-sonnet-20241022",),
    ),
    Case(
        "google_key_in_a_request_url",
        f"httpx.HTTPStatusError: Client error '400 Bad Request' for url 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent?key={GOOGLE}'",
        (GOOGLE,),
        {"google_api_key": 1},
        ("400 Bad Request", "gemini-2.5-flash:generateContent?key="),
    ),
    Case(
        "hugging_face_token_in_a_header_dump",
        f"huggingface_hub.errors.HfHubHTTPError: 401 Client Error. headers={{'authorization': 'Bearer {HUGGINGFACE}'}}",
        (HUGGINGFACE,),
        {"huggingface_token": 1},
        ("401 Client Error", "'authorization': 'Bearer "),
    ),
    Case(
        "github_classic_token_in_a_git_remote",
        f"fatal: unable to access 'https://{GITHUB}@github.com/acme/shop.git/': The requested URL returned error: 403",
        (GITHUB,),
        {"github_token": 1},
        ("github.com/acme/shop.git", "error: 403"),
    ),
    Case(
        "github_fine_grained_token_in_ci_yaml",
        f"  env:\n    GH_TOKEN: {GITHUB_FINE}\n  run: gh release create v1.4.2",
        (GITHUB_FINE,),
        {"github_token": 1},
        ("gh release create v1.4.2",),
    ),
    Case(
        "slack_bot_token_in_a_js_error",
        f"Error: An API error occurred: invalid_auth\n    at platformErrorFromResult (/app/node_modules/@slack/web-api/dist/errors.js:62:33)\n    token: '{SLACK}'",
        (SLACK,),
        {"slack_token": 1},
        ("invalid_auth", "/app/node_modules/@slack/web-api/dist/errors.js:62:33"),
    ),
    Case(
        "slack_webhook_url",
        f"requests.exceptions.HTTPError: 404 Client Error: Not Found for url: {SLACK_WEBHOOK}",
        (SLACK_WEBHOOK, "r2D2c3P0x9y8z7w6v5u4t3s2"),
        {"slack_webhook": 1},
        ("404 Client Error: Not Found for url:",),
    ),
    Case(
        "stripe_secret_key_in_ruby_style_config",
        f"Stripe::AuthenticationError: Invalid API Key provided: {STRIPE}",
        (STRIPE,),
        {"stripe_key": 1},
        ("Stripe::AuthenticationError: Invalid API Key provided:",),
    ),
    Case(
        "stripe_restricted_and_webhook_secrets",
        f"STRIPE_RESTRICTED={STRIPE_RESTRICTED} STRIPE_WEBHOOK_SECRET={STRIPE_WEBHOOK} api_version=2023-10-16",
        (STRIPE_RESTRICTED, STRIPE_WEBHOOK),
        {"stripe_key": 2},
        ("api_version=2023-10-16",),
    ),
    Case(
        "sendgrid_key_in_a_node_config",
        f"sgMail.setApiKey('{SENDGRID}');\nResponseError: Unauthorized (401)",
        (SENDGRID,),
        {"sendgrid_key": 1},
        ("ResponseError: Unauthorized (401)", "sgMail.setApiKey("),
    ),
    Case(
        "gitlab_and_npm_tokens_in_an_npmrc",
        f"//gitlab.acme.io/api/v4/packages/npm/:_authToken={GITLAB}\n//registry.npmjs.org/:_authToken={NPM}",
        (GITLAB, NPM),
        {"gitlab_token": 1, "npm_token": 1},
        ("//gitlab.acme.io/api/v4/packages/npm/:_authToken=", "//registry.npmjs.org/"),
    ),
    Case(
        "aws_credentials_file",
        f"[default]\naws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\nregion = eu-west-1",
        (AWS_ID, AWS_SECRET),
        {"aws_access_key": 1, "aws_secret_key": 1},
        ("[default]", "region = eu-west-1", "aws_secret_access_key = "),
    ),
    Case(
        "aws_keys_in_boto3_code",
        f"s3 = boto3.client('s3', aws_access_key_id='{AWS_ID}', aws_secret_access_key='{AWS_SECRET}')",
        (AWS_ID, AWS_SECRET),
        {"aws_access_key": 1, "aws_secret_key": 1},
        ("boto3.client('s3'",),
    ),
    Case(
        "aws_temporary_key_in_a_botocore_error",
        f"botocore.exceptions.ClientError: An error occurred (InvalidAccessKeyId) when calling the PutObject operation: The AWS Access Key Id you provided does not exist in our records. AWSAccessKeyId: {AWS_TEMP_ID}",
        (AWS_TEMP_ID,),
        {"aws_access_key": 1},
        ("InvalidAccessKeyId", "PutObject operation"),
    ),
    Case(
        "aws_secret_in_a_json_credentials_response",
        f'{{"AccessKeyId": "{AWS_TEMP_ID}", "SecretAccessKey": "{AWS_SECRET}", "Expiration": "2024-01-15T12:00:00Z"}}',
        (AWS_TEMP_ID, AWS_SECRET),
        {"aws_access_key": 1, "aws_secret_key": 1},
        ('"Expiration": "2024-01-15T12:00:00Z"',),
    ),
    Case(
        "jwt_in_an_authorization_header",
        f"jwt.exceptions.ExpiredSignatureError: Signature has expired\nAuthorization: Bearer {JWT}",
        (JWT,),
        {"jwt": 1},
        ("ExpiredSignatureError: Signature has expired", "Authorization: Bearer "),
    ),
    Case(
        "jwt_in_a_cookie",
        f"Cookie: session={JWT}; theme=dark; lang=en-GB",
        (JWT,),
        {"jwt": 1},
        ("theme=dark", "lang=en-GB"),
    ),
    Case(
        "opaque_bearer_token_in_curl",
        "curl -H 'Authorization: Bearer 8f14e45fceea167a5a36dedd4bea2543b2c7' https://api.acme.io/v2/orders/1234",
        ("8f14e45fceea167a5a36dedd4bea2543b2c7",),
        {"bearer_token": 1},
        ("https://api.acme.io/v2/orders/1234", "Authorization: Bearer "),
    ),
    Case(
        "basic_auth_header",
        "urllib.error.HTTPError: HTTP Error 401: Unauthorized (Authorization: Basic YWRtaW46Y29ycmVjdC1ob3JzZQ==)",
        ("YWRtaW46Y29ycmVjdC1ob3JzZQ==",),
        {"basic_auth": 1},
        ("HTTP Error 401: Unauthorized",),
    ),
    Case(
        "google_oauth_access_token",
        f"google.auth.exceptions.RefreshError: token {GOOGLE_OAUTH} expired",
        (GOOGLE_OAUTH,),
        {"google_oauth_token": 1},
        ("google.auth.exceptions.RefreshError",),
    ),
    Case(
        "postgres_url_password",
        'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "db.internal" (10.0.3.7), port 5432 failed\nDATABASE_URL=postgresql://shop_app:Tr0ub4dor&3@db.internal:5432/shop',
        ("Tr0ub4dor&3",),
        {"password": 1},
        ("postgresql://shop_app:", "@db.internal:5432/shop", "port 5432 failed", "(10.0.3.7)"),
    ),
    Case(
        "mongodb_srv_url_password",
        "MongoServerError: bad auth : authentication failed (mongodb+srv://reporting:q9Lx7Vw2Rt@cluster0.ab1cd.mongodb.net/analytics?retryWrites=true&w=majority)",
        ("q9Lx7Vw2Rt",),
        {"password": 1},
        ("mongodb+srv://reporting:", "cluster0.ab1cd.mongodb.net/analytics?retryWrites=true&w=majority"),
    ),
    Case(
        "redis_url_without_a_user",
        "redis.exceptions.AuthenticationError: invalid password (url: redis://:s3cr3t-r3dis@cache:6379/0)",
        ("s3cr3t-r3dis",),
        {"password": 1},
        ("redis://:", "@cache:6379/0", "invalid password"),
    ),
    Case(
        "amqp_url_in_a_celery_log",
        "[2024-01-15 10:23:45,012: ERROR/MainProcess] consumer: Cannot connect to amqp://worker:rabbitPass42@rabbitmq:5672//: [Errno 111] Connection refused.",
        ("rabbitPass42",),
        {"password": 1},
        ("amqp://worker:", "@rabbitmq:5672//", "[Errno 111] Connection refused."),
    ),
    Case(
        "sql_server_connection_string",
        "Microsoft.Data.SqlClient.SqlException (0x80131904): Login failed for user 'sa'.\nConnectionString: \"Server=tcp:sql01,1433;Database=Orders;User Id=sa;Password=P@ssw0rd!2024;Encrypt=True;\"",
        ("P@ssw0rd!2024",),
        {"password": 1},
        ("Server=tcp:sql01,1433;Database=Orders;User Id=sa;Password=", ";Encrypt=True;", "(0x80131904)"),
    ),
    Case(
        "jdbc_url_query_password",
        "java.sql.SQLException: Access denied for user 'shop'@'10.0.0.12' (using password: YES) url=jdbc:mysql://db:3306/shop?user=shop&password=Sup3rS3cret!",
        ("Sup3rS3cret!",),
        {"password": 1},
        (
            "Access denied for user 'shop'@'10.0.0.12' (using password: YES)",
            "jdbc:mysql://db:3306/shop?user=shop&password=",
        ),
    ),
    Case(
        "dotenv_passwords_and_tokens",
        "DB_HOST=db.internal\nDB_PASSWORD=hunter2-but-longer\nSENTRY_AUTH_TOKEN=sntrys_eyJpYXQiOjE3MDAwMDAwMDB9_abc\nDEBUG=false",
        ("hunter2-but-longer", "sntrys_eyJpYXQiOjE3MDAwMDAwMDB9_abc"),
        {"password": 1, "secret": 1},
        ("DB_HOST=db.internal", "DEBUG=false"),
    ),
    Case(
        "hard_coded_password_in_python",
        'def connect():\n    return psycopg2.connect(host="db", user="admin", password="correct-horse-battery")\n',
        ("correct-horse-battery",),
        {"password": 1},
        ('host="db"', 'user="admin"', "psycopg2.connect("),
    ),
    Case(
        "client_secret_in_json_config",
        '{"client_id": "web-portal", "client_secret": "9d8c7b6a5f4e3d2c1b0a", "redirect_uri": "https://portal.acme.io/callback"}',
        ("9d8c7b6a5f4e3d2c1b0a",),
        {"secret": 1},
        ('"client_id": "web-portal"', '"redirect_uri": "https://portal.acme.io/callback"'),
    ),
    Case(
        "api_key_constant_in_typescript",
        "const API_KEY: string = 'live_5f3c9a7e2b1d4f6a';\nthrow new Error(`Weather API returned 401`);",
        ("live_5f3c9a7e2b1d4f6a",),
        {"secret": 1},
        ("Weather API returned 401",),
    ),
    Case(
        "access_token_in_a_query_string",
        "GET https://graph.facebook.com/v18.0/me?fields=id,name&access_token=EAAGm0PX4ZCpsBAKZCqK1x 400 (Bad Request)",
        ("EAAGm0PX4ZCpsBAKZCqK1x",),
        {"secret": 1},
        ("https://graph.facebook.com/v18.0/me?fields=id,name&access_token=", "400 (Bad Request)"),
    ),
    Case(
        "email_in_a_django_error",
        'django.db.utils.IntegrityError: duplicate key value violates unique constraint "accounts_user_email_key"\nDETAIL:  Key (email)=(jane.doe+billing@example.co.uk) already exists.',
        ("jane.doe+billing@example.co.uk",),
        {"email": 1},
        ('"accounts_user_email_key"', "DETAIL:  Key (email)=(", ") already exists."),
    ),
    Case(
        "emails_in_a_log_line",
        "WARN mailer: bounce for maria.garcia@correo.es (reply-to support@acme.io) after 3 attempts",
        ("maria.garcia@correo.es", "support@acme.io"),
        {"email": 2},
        ("WARN mailer: bounce for", "after 3 attempts"),
    ),
    Case(
        "email_and_home_directory_in_a_python_trace",
        'Traceback (most recent call last):\n  File "/home/jdoe/projects/crm/import.py", line 88, in <module>\n    send(to="j.doe@clinic.example.org")\nValueError: mailbox full',
        ("j.doe@clinic.example.org", "/home/jdoe/"),
        {"email": 1, "username": 1},
        ("/projects/crm/import.py", "line 88, in <module>", "ValueError: mailbox full"),
    ),
    Case(
        "macos_and_windows_home_directories",
        "Error: EACCES: permission denied, open '/Users/anna.schmidt/Library/Logs/app.log'\n  at C:\\Users\\tkowalski\\repo\\index.js:3:9",
        ("anna.schmidt", "tkowalski"),
        {"username": 2},
        ("/Library/Logs/app.log", "\\repo\\index.js:3:9", "EACCES: permission denied"),
    ),
    Case(
        "private_key_block_in_a_config_dump",
        f"ssl.SSLError: [SSL] PEM lib (_ssl.c:3900)\nkey_file contents:\n{PEM}\ncert_file=/etc/ssl/certs/api.pem",
        (PEM, "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi1vLxe2vZ5qA8dJ1mrOy0fW2Ek"),
        {"private_key": 1},
        ("ssl.SSLError: [SSL] PEM lib (_ssl.c:3900)", "cert_file=/etc/ssl/certs/api.pem"),
    ),
    Case(
        "card_number_in_a_payment_log",
        "PaymentDeclined: card 4111 1111 1111 1111 declined (code 05) for order 2024-000981",
        ("4111 1111 1111 1111",),
        {"credit_card": 1},
        ("declined (code 05)", "for order 2024-000981"),
    ),
    Case(
        "several_kinds_in_one_stack",
        f"Error: Request failed\n    at callApi (/srv/app/src/api.ts:41:11)\nrequest: POST https://api.openai.com/v1/chat/completions key={OPENAI} user=ops@acme.io\nfallback: key={GOOGLE}",
        (OPENAI, GOOGLE, "ops@acme.io"),
        {"openai_key": 1, "google_api_key": 1, "email": 1},
        ("/srv/app/src/api.ts:41:11", "https://api.openai.com/v1/chat/completions"),
    ),
    Case(
        "the_same_key_twice_counts_twice",
        f"retry 1 with {AWS_ID} failed; retry 2 with {AWS_ID} failed",
        (AWS_ID,),
        {"aws_access_key": 2},
        ("retry 1 with", "retry 2 with", "failed"),
    ),
]

# Ordinary text of error reports that looks a little like a secret and must come through untouched.
CLEAN = [
    "KeyError: 'password'",
    'password = request.form["password"]',
    'if not password:\n    raise ValueError("password is required")',
    "conn = psycopg2.connect(password=settings.DB_PASSWORD)",
    'token = os.environ["API_TOKEN"]\nsecret=os.environ["SECRET"]',
    "max_tokens=4096, temperature=0.2, top_p=0.95",
    "token_type: 'bearer', expires_in: 3600",
    "missing Bearer token in the Authorization header",
    "Basic authentication failed for user admin",
    "See https://github.com/psf/requests/blob/3e7d0a873ea8f4d4a1b9e2e5c5a3f9e3b8b1a2c4/src/requests/adapters.py#L519",
    "Django 4.2.7, Python 3.11.6, node v20.11.0, react@18.2.0, @types/node@20.10.5",
    'File "/app/orders/api.py", line 27, in create_order',
    "fatal: could not read from remote repository git@github.com:acme/shop.git",
    "java.lang.Object@6d06d69c is not a com.acme.Order",
    "request 3f2b9c1e-8a4d-4f6b-9c2e-7d1a5b3c8e9f failed after 30000 ms",
    "image sha256:9b2a7c1d0e8f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b pulled",
    "The task-runner-configuration-service crashed at 0x7f3b2c1d0a90 (timestamp 1700000000000)",
    "ECONNREFUSED 127.0.0.1:5432 while connecting to user@localhost",
    "C:\\Users\\Public\\Documents\\report.xlsx is locked; /home/runner/work/shop/shop/tests/test_api.py failed",
    "@app.route('/users/<int:user_id>') raised werkzeug.exceptions.NotFound",
    "AKIA is the prefix of long-term AWS keys; see the IAM docs",
    'config = {"password": "", "secret": "${DB_SECRET}", "api_key": "%s"}',
]
