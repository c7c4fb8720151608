"""The optional tile basemap: off by default; when set, its host alone joins the CSP and
the pages name it for the maps (issue 15)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_helpers import SECRET

from tierslieux.basemap import BasemapError, check_basemap_url
from tierslieux.cli import app as cli_app
from tierslieux.config import Settings
from tierslieux.web.app import create_app
from tierslieux.web.security import CSP, content_security_policy
from tierslieux.web.settings import WebSettings

OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
IGN = (
    "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&FORMAT=image/png"
)


def _directives(policy: str) -> dict[str, str]:
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


def _client(tmp_path, **basemap: str) -> TestClient:
    core = Settings(
        database_url=f"sqlite:///{tmp_path / 'web.sqlite'}",
        cache_dir=tmp_path / "cache",
        offline=True,
    )
    return TestClient(create_app(WebSettings(core=core, secret_key=SECRET, **basemap)))


def test_without_basemap_the_policy_and_the_page_name_no_other_host(tmp_path) -> None:
    response = _client(tmp_path).get("/connexion")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    assert "tierslieux-basemap" not in response.text
    assert "openstreetmap" not in response.text


def test_with_basemap_its_host_alone_joins_images_and_fetches(tmp_path) -> None:
    response = _client(tmp_path, basemap_url=OSM).get("/connexion")
    policy = response.headers["content-security-policy"]
    assert policy == content_security_policy("https://tile.openstreetmap.org")
    before, after = _directives(CSP), _directives(policy)
    assert after["img-src"] == "'self' data: https://tile.openstreetmap.org"
    assert after["connect-src"] == "'self' https://tile.openstreetmap.org"
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"img-src", "connect-src"}
    assert set(after) == set(before)
    # the page hands the template and its credit to the maps (static/js/map.js)
    assert (
        '<meta name="tierslieux-basemap" content="https://tile.openstreetmap.org/{z}/{x}/{y}.png"'
        in response.text
    )
    assert 'data-attribution="© les contributeurs d&#x27;OpenStreetMap"' in response.text


def test_ign_tiles_and_a_given_credit(tmp_path) -> None:
    settings = WebSettings(secret_key=SECRET, basemap_url=IGN)
    assert settings.basemap_origin == "https://data.geopf.fr"
    assert settings.basemap_credit == "© IGN"
    given = WebSettings(secret_key=SECRET, basemap_url=IGN, basemap_attribution="Plan IGN")
    assert given.basemap_credit == "Plan IGN"
    assert WebSettings(secret_key=SECRET).basemap_origin is None


def test_the_environment_sets_the_basemap() -> None:
    settings = WebSettings.from_environment(
        {
            "TIERSLIEUX_SECRET_KEY": SECRET,
            "TIERSLIEUX_BASEMAP_URL": OSM,
            "TIERSLIEUX_BASEMAP_ATTRIBUTION": "OSM",
        }
    )
    assert settings.basemap_url == OSM
    assert settings.basemap_credit == "OSM"
    assert WebSettings.from_environment({"TIERSLIEUX_SECRET_KEY": SECRET}).basemap_url == ""


@pytest.mark.parametrize(
    "url",
    [
        "http://tile.openstreetmap.org/{z}/{x}/{y}.png",  # not https
        "https://tile.openstreetmap.org/{z}/{x}.png",  # no {y}
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png; script-src *",  # into the CSP
        "https://user@tile.openstreetmap.org/{z}/{x}/{y}.png",
        "javascript:alert(1)//{z}{x}{y}",
        "tile.openstreetmap.org/{z}/{x}/{y}.png",
    ],
)
def test_a_url_that_is_not_a_safe_tile_template_is_refused(url: str) -> None:
    with pytest.raises(BasemapError, match=r"Adresse du fond de carte invalide.*\{z\}, \{x\}"):
        WebSettings(secret_key=SECRET, basemap_url=url)


def test_loopback_http_and_empty_are_accepted() -> None:
    assert check_basemap_url("  ") == ""
    local = "http://127.0.0.1:8080/tuiles/{z}/{x}/{y}.png"
    assert check_basemap_url(local) == local


def test_the_command_line_refuses_a_bad_basemap_in_one_line(tmp_path) -> None:
    env = {
        "TIERSLIEUX_DATABASE_URL": f"sqlite:///{tmp_path / 'b.sqlite'}",
        "TIERSLIEUX_CACHE_DIR": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "COLUMNS": "200",
    }
    result = CliRunner().invoke(
        cli_app, ["web", "--basemap-url", "http://exemple.fr/tuiles.png"], env=env
    )
    assert result.exit_code == 1
    assert "Adresse du fond de carte invalide" in result.output
    assert "Traceback" not in result.output
