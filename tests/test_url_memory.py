"""``url_for`` is remembered per worker (mda.web.App): every link it gives is the one Flask builds."""
from __future__ import annotations

from flask import Flask, url_for

from mda.web import App


def _flask_url_for(app: Flask, endpoint: str, **values: object) -> str:
    return Flask.url_for(app, endpoint, **values)  # the original, unremembered


def test_remembered_links_are_flasks_own(app: App) -> None:
    assert isinstance(app, App)
    calls = [("home.index", {}), ("cases.index", {}), ("cases.detail", {"case_id": 7}),
             ("cases.detail", {"case_id": 8}), ("cases.index", {"pagina": 2, "fase": "herstel"}), ("cases.index", {"sorteer": "fase", "aflopend": None}),
             ("static", {"filename": "style.css"}), ("auth.login", {})]
    for script_root in ("", "/mda"):
        with app.test_request_context("/", base_url=f"http://localhost{script_root}/"):
            for endpoint, values in calls * 2:  # the second round comes from memory
                assert url_for(endpoint, **values) == _flask_url_for(app, endpoint, **values)
            # what is never remembered still works as Flask's
            assert url_for("cases.detail", case_id=7, _anchor="team") == \
                _flask_url_for(app, "cases.detail", case_id=7, _anchor="team")
            assert url_for("home.index", _external=True) == f"http://localhost{script_root}/"
    with app.test_request_context("/mda/", base_url="http://localhost/mda/"):
        assert url_for("home.index") == "/mda/"
    with app.test_request_context("/"):
        assert url_for("home.index") == "/"  # the other mount's link was not reused


def test_a_relative_endpoint_is_remembered_per_blueprint(app: App) -> None:
    with app.test_request_context("/casussen/"):
        assert url_for(".index") == "/casussen/"
    with app.test_request_context("/verwijzingen/"):
        assert url_for(".index") == _flask_url_for(app, ".index")
        assert url_for(".index") == "/verwijzingen/"


def test_the_memory_is_bounded(app: App) -> None:
    with app.test_request_context("/"):
        for case_id in range(1, App.URL_MEMORY_SIZE + 50):
            assert url_for("cases.detail", case_id=case_id) == f"/casussen/{case_id}"
        assert len(app._url_memory) <= App.URL_MEMORY_SIZE
