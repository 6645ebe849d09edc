"""Error answers: a short, kind HTML page for a browser that asks for one (Accept: text/html),
the usual JSON for API clients. Neither ever echoes what was sent: a member's words or a token
must not come back in an error page, a log or a proxy's cache."""

from __future__ import annotations

import html
import logging

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PAGES: dict[int, tuple[str, str]] = {
    400: ("That request could not be read", "Something in the request was not as expected."),
    401: ("Please sign in", "This page needs a staff token. Sign in from the page you came from."),
    403: ("Not allowed", "Your account cannot open this page."),
    404: ("We could not find that page", "The link may be old or mistyped."),
    405: ("That does not work here", "This address cannot be used that way."),
    409: ("That changed meanwhile", "Someone else may have acted first. Reload and try again."),
    413: ("That is too large", "Could you send something shorter?"),
    422: (
        "Something in the form was not right",
        "Please go back, check what you entered, and try again.",
    ),
    429: ("Too many at once", "Please wait a minute and try again."),
    500: (
        "Something went wrong on our side",
        "It is not your fault, and the team can see that it happened. Please try again soon.",
    ),
}
HELP_LINE = (
    "If you are in danger or thinking of harming yourself, call 911, or call or text 988 "
    "(the Suicide & Crisis Lifeline), any time."
)


def wants_html(request: Request) -> bool:
    """A browser navigating here asks for text/html first; fetch() and API clients do not."""
    accept = request.headers.get("accept", "").lower()
    return "text/html" in accept and "application/json" not in accept.split(",")[0]


def error_page(status: int) -> HTMLResponse:
    """The HTML page for `status`: our own words only, nothing from the request."""
    title, line = PAGES.get(status, PAGES[500] if status >= 500 else PAGES[400])
    page = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{html.escape(title)} · peerbot</title>
  <link rel="stylesheet" href="/static/chat.css">
</head>
<body>
  <header><p class="note">peerbot · error {status}</p></header>
  <main>
    <h1>{html.escape(title)}</h1>
    <p>{html.escape(line)}</p>
    <p><a href="/">Go to the chat</a></p>
    <p class="note">{html.escape(HELP_LINE)}</p>
  </main>
</body>
</html>
"""
    return HTMLResponse(page, status_code=status)


async def http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if wants_html(request):
        page = error_page(error.status_code)
        for header, value in (error.headers or {}).items():
            page.headers[header] = value
        return page
    return await http_exception_handler(request, error)


async def validation_error(request: Request, error: Exception) -> Response:
    """422 naming what is wrong and where, never echoing the values sent: a member's words do
    not come back in an error, and NaN or Infinity (which JSON cannot carry) cannot turn a
    refusal into a 500."""
    assert isinstance(error, RequestValidationError)
    if wants_html(request):
        return error_page(422)
    detail = [
        {
            "loc": list(item.get("loc", ())),
            "msg": str(item.get("msg", "")),
            "type": item.get("type"),
        }
        for item in error.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


async def server_error(request: Request, error: Exception) -> Response:
    """A route that failed: the log names the kind of error, never the request's content."""
    # The route's template (/api/chat/{user}/messages), never the path itself: a chat's id in
    # the path is as good as its password.
    route = getattr(request.scope.get("route"), "path", "?")
    log.error("request failed", extra={"error": type(error).__name__, "route": route})
    if wants_html(request):
        return error_page(500)
    return JSONResponse({"detail": "Something went wrong on our side."}, status_code=500)
