"""A second real client: LangChain's `ChatOpenAI`, pointed at the gateway by its base URL only, whole and streamed."""

from __future__ import annotations

from langchain_openai import ChatOpenAI

from tests.conftest import Gateway


def test_langchain_invoke_and_stream(base_url: str, gateway: Gateway) -> None:
    # Given LangChain's OpenAI chat model with the gateway's base URL and key, asking for the usage of streams
    chat = ChatOpenAI(base_url=base_url, api_key="local-GatewayApiApiKey", model="auto", max_retries=0,
                      stream_usage=True)  # fmt: skip
    # When it invokes, then it gets the routed answer (the sLM) and the token usage
    answer = chat.invoke("Explain in one short sentence what a Python generator is.")
    assert "Python generator" in str(answer.content)
    assert answer.response_metadata["model_name"] == "slm"
    assert answer.usage_metadata is not None
    assert answer.usage_metadata["output_tokens"] > 0
    # When Gemini answers instead (the sLM down) and it streams, then the answer comes in pieces, whole at the end
    gateway.emulator.fail("slm", "status", status=503)
    pieces = list(chat.stream("Explain in one short sentence what a Python generator is."))
    text = "".join(str(piece.content) for piece in pieces)
    assert sum(1 for piece in pieces if piece.content) > 1
    assert "Python generator" in text
    assert text.startswith("[emulated gemini gemini-2.5-flash]")
    usage = [piece.usage_metadata for piece in pieces if piece.usage_metadata]
    assert usage
    assert usage[-1]["total_tokens"] > 0
