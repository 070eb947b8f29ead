# clicksend-mcp as a hosted MCP server (streamable HTTP on :8000 by default). docker stop (SIGTERM) lets
# in-flight calls finish before the process exits.
# Build:  docker build -t clicksend-mcp .
# Run:    docker run --rm -p 8000:8000 -e CLICKSEND_MCP_AUTH_TOKEN=<16+ random chars> \
#           -e CLICKSEND_USERNAME=... -e CLICKSEND_API_KEY=... clicksend-mcp
# Try:    docker run --rm -p 8000:8000 -e CLICKSEND_MCP_AUTH_TOKEN=<token> -e CLICKSEND_BACKEND=sandbox clicksend-mcp
# Binding 0.0.0.0 requires the token; clients send it as "Authorization: Bearer <token>".

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY server ./server
COPY tool_specs ./tool_specs
RUN pip install --no-cache-dir --upgrade pip \
 && pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CLICKSEND_MCP_TRANSPORT=http \
    CLICKSEND_MCP_HOST=0.0.0.0 \
    CLICKSEND_MCP_PORT=8000
RUN useradd --create-home --uid 10001 mcp
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER mcp
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"
ENTRYPOINT ["clicksend-mcp"]
