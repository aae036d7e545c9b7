"""A small htmx 4 helper of our own (see README, dependency notes: why not htmx-flask).

One URL, two renderings: a page for a normal request, its fragment for an htmx request.
"""
from flask import Response, make_response, render_template, request


def is_htmx() -> bool:
    """True when htmx made the request. Never used for authentication (SECURITY.md)."""
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """htmx asks for a part of the page; boosted links and history restores (`full`) get the page."""
    return is_htmx() and request.headers.get("HX-Request-Type", "partial") == "partial"


def render(page_template: str, fragment_template: str, **context) -> Response:
    """Render the fragment for htmx and the full page (which includes the fragment) otherwise."""
    response = make_response(render_template(
        fragment_template if wants_fragment() else page_template, **context))
    vary(response)
    return response


def vary(response: Response) -> Response:
    """Caches must keep the page and the fragment of one URL apart."""
    response.vary.add("HX-Request")
    response.vary.add("HX-Request-Type")
    return response


def set_headers(response: Response, *, trigger: str | None = None, redirect: str | None = None,
                retarget: str | None = None, reswap: str | None = None,
                push_url: str | None = None) -> Response:
    """Set htmx response headers by name, so views never spell them."""
    for header, value in (("HX-Trigger", trigger), ("HX-Redirect", redirect),
                          ("HX-Retarget", retarget), ("HX-Reswap", reswap),
                          ("HX-Push-Url", push_url)):
        if value is not None:
            response.headers[header] = value
    return response
