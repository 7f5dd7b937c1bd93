"""Loading: directories, archives (hostile ones refused), single files, pastes, samples, time zones."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import mpkit
from mpkit import derive
from mpkit.archive import Limits
from mpkit.errors import BundleError

CASE_LOG = "[2024-09-18T13:57:52.774] [info] [dev] process state changed to Running\n[2024-09-18T13:57:52.804] [debug] [dev] Waiting for SSH to be up\n"


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    return ti, data


def test_samples_listed_and_default_loads() -> None:
    names = mpkit.samples()
    assert {
        "sequoia-ip-discovery",
        "firewall-blocks-bootpd",
        "healthy-start",
        "linux-dhcp-firewalled",
    } <= set(names)
    b = mpkit.load_bundle(mpkit.sample())
    assert (
        b.host.platform == "macos"
        and b.host.os_version == "15.0"
        and b.host.multipass_version.startswith("1.14.0")
    )
    assert b.clock == "utc"
    assert str(b.frame("daemon_log")["time"].dtype) == "datetime64[ns, UTC]"
    assert (b.coverage["rejected"] == 0).all()
    assert b.frame("leases")["snapshot_at"].notna().any()  # lease history is a time series
    assert len(b.failed_sources()) >= 1


@pytest.mark.parametrize(
    "name", ["sequoia-ip-discovery", "firewall-blocks-bootpd", "healthy-start", "linux-dhcp-firewalled"]
)
def test_every_sample_has_attempts_and_entities(name: str) -> None:
    b = mpkit.load_bundle(mpkit.sample(name))
    att = derive(b).attempts
    assert len(att) >= 1 and att["instance"].notna().all()
    ent = derive(b).entities
    assert ent["mac"].notna().any()
    assert {"time", "source", "kind", "instance", "mac", "ip", "level", "message", "file", "line"} <= set(
        derive(b).timeline.columns
    )


def test_tar_archive_loads_like_the_directory(tmp_path: Path) -> None:
    src = mpkit.sample("firewall-blocks-bootpd")
    arc = tmp_path / "b.tar.gz"
    with tarfile.open(arc, "w:gz") as tf:
        tf.add(src, arcname="bundle")
    a, d = mpkit.load_bundle(arc), mpkit.load_bundle(src)
    assert sorted(x.path for x in a.artifacts) == sorted(x.path for x in d.artifacts)
    assert mpkit.diagnose(a).to_dict() == mpkit.diagnose(d).to_dict()


def test_zip_archive_loads(tmp_path: Path) -> None:
    arc = tmp_path / "b.zip"
    with zipfile.ZipFile(arc, "w") as zf:
        zf.writestr("multipassd.log", CASE_LOG)
        zf.writestr(
            "client.txt",
            "start failed: The following errors occurred:\ndev: timed out waiting for response\n",
        )
    b = mpkit.load_bundle(arc)
    assert b.kinds() == {"daemon_log", "client"}


@pytest.mark.parametrize(
    ("member", "why"),
    [
        (_file("../evil.txt", b"x"), "'..'"),
        (_file("/etc/evil.txt", b"x"), "absolute"),
    ],
)
def test_hostile_member_paths_refused(
    tmp_path: Path, member: tuple[tarfile.TarInfo, bytes], why: str
) -> None:
    arc = _tar(tmp_path / "h.tar.gz", [member])
    with pytest.raises(BundleError, match=why):
        mpkit.load_bundle(arc)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_symlink_and_hardlink_outside_refused(tmp_path: Path) -> None:
    for kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
        ti = tarfile.TarInfo("link")
        ti.type = kind
        ti.linkname = "../../etc/passwd" if kind == tarfile.SYMTYPE else "/etc/passwd"
        arc = _tar(tmp_path / f"l{kind!r}.tar.gz", [(ti, None)])
        with pytest.raises(BundleError, match="points outside"):
            mpkit.load_bundle(arc)


def test_link_inside_is_listed_not_followed(tmp_path: Path) -> None:
    ti = tarfile.TarInfo("alias.log")
    ti.type = tarfile.SYMTYPE
    ti.linkname = "multipassd.log"
    arc = _tar(tmp_path / "ok.tar.gz", [_file("multipassd.log", CASE_LOG.encode()), (ti, None)])
    b = mpkit.load_bundle(arc)
    assert any(u.path == "alias.log" for u in b.unrecognised)


def test_device_file_refused(tmp_path: Path) -> None:
    ti = tarfile.TarInfo("dev")
    ti.type = tarfile.CHRTYPE
    arc = _tar(tmp_path / "d.tar.gz", [(ti, None)])
    with pytest.raises(BundleError, match="device"):
        mpkit.load_bundle(arc)


def test_decompression_bomb_refused(tmp_path: Path) -> None:
    arc = tmp_path / "bomb.zip"
    with zipfile.ZipFile(arc, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("multipassd.log", b"\0" * (40 * 1024 * 1024))
    with pytest.raises(BundleError, match="decompression bomb"):
        mpkit.load_bundle(arc)
    with pytest.raises(BundleError, match="unpacks to"):
        mpkit.load_bundle(arc, limits=Limits(max_bytes=1024 * 1024))


def test_truncated_archive_is_a_clear_error(tmp_path: Path) -> None:
    src = mpkit.sample("healthy-start")
    arc = tmp_path / "t.tar.gz"
    with tarfile.open(arc, "w:gz") as tf:
        tf.add(src, arcname="b")
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(arc.read_bytes()[: arc.stat().st_size // 2])
    with pytest.raises(BundleError, match="not a readable archive|complete"):
        mpkit.load_bundle(cut)


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no such file"):
        mpkit.load_bundle(tmp_path / "nope")


def test_files_identified_by_content_with_random_names(tmp_path: Path) -> None:
    src = mpkit.sample("firewall-blocks-bootpd")
    for i, f in enumerate(
        sorted(p for p in src.iterdir() if p.is_file() and p.name != "manifest.json" and p.stat().st_size)
    ):
        shutil.copy(f, tmp_path / f"output-{i}.txt")
    b = mpkit.load_bundle(tmp_path)
    named = mpkit.load_bundle(src)
    assert b.kinds() >= {a.kind for a in named.artifacts if a.bytes}
    assert all(a.recognised_by in ("content", "paste") for a in b.artifacts)


def test_paste_with_prose_is_split() -> None:
    text = (
        "Hi, my VM will not start after the update. Here is what I see:\n\n```\n"
        "start failed: The following errors occurred:\nprimary: timed out waiting for response\n```\n\n"
        "The log says:\n\n"
        + CASE_LOG
        + "\nand arp:\n\n? (192.168.64.4) at 52:54:0:2b:9e:61 on bridge100 ifscope [bridge]\n\n"
        "sw_vers:\nProductName:\t\tmacOS\nProductVersion:\t\t15.0\n\nThanks for any help!\n"
    )
    b = mpkit.load_text(text, "issue.md")
    assert {"client", "daemon_log", "arp", "sw_vers"} <= b.kinds()
    assert all(a.recognised_by == "paste" for a in b.artifacts)
    assert b.host.os_version == "15.0"


def test_non_utf8_bytes_counted_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "multipassd.log").write_bytes(
        CASE_LOG.encode() + b"[2024-09-18T13:57:53.000] [info] [dev] bad \xff\xfe bytes\n"
    )
    b = mpkit.load_bundle(tmp_path)
    assert b.artifacts[0].decode_errors == 2
    assert len(b.frame("daemon_log")) == 3


def test_unknown_files_listed_never_fatal(tmp_path: Path) -> None:
    (tmp_path / "multipassd.log").write_text(CASE_LOG)
    (tmp_path / "holiday.jpg").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "notes.txt").write_text("I tried rebooting twice.\n")
    b = mpkit.load_bundle(tmp_path)
    assert {u.path for u in b.unrecognised} == {"holiday.jpg", "notes.txt"}


def test_manifest_zone_puts_times_in_utc(tmp_path: Path) -> None:
    (tmp_path / "multipassd.log").write_text(CASE_LOG)
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "format": "mpkit-bundle/1",
                "host": {"platform": "macos", "timezone": "Europe/Paris"},
                "artifacts": [],
            }
        )
    )
    b = mpkit.load_bundle(tmp_path)
    t = b.frame("daemon_log")["time"].iloc[0]
    assert t == pd.Timestamp("2024-09-18T11:57:52.774", tz="UTC")


def test_without_zone_times_stay_naive(tmp_path: Path) -> None:
    (tmp_path / "multipassd.log").write_text(CASE_LOG)
    b = mpkit.load_bundle(tmp_path)
    assert b.clock == "local-naive" and "no time zone" in b.clock_note
    assert b.frame("daemon_log")["time"].dt.tz is None


def test_broken_manifest_noted_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "multipassd.log").write_text(CASE_LOG)
    (tmp_path / "manifest.json").write_text("{not json")
    b = mpkit.load_bundle(tmp_path)
    assert b.manifest is None and b.manifest_errors


def test_readme_data_model_matches_the_code() -> None:
    from mpkit.schema_docs import update

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert update(readme) == readme, "README schemas are stale: run `python -m mpkit.schema_docs`"


def test_special_files_in_a_directory_are_listed_not_read(tmp_path: Path) -> None:
    import os

    (tmp_path / "multipassd.log").write_text(CASE_LOG)
    os.mkfifo(tmp_path / "pipe")
    b = mpkit.load_bundle(tmp_path)  # must not block reading the FIFO
    assert any(u.path == "pipe" and "not a regular file" in u.reason for u in b.unrecognised)


def test_timeline_messages_never_print_a_missing_value() -> None:
    # the default sample's lease has an ``ff,`` client id and no MAC
    t = derive(mpkit.load_bundle(mpkit.sample("default"))).timeline
    messages = t["message"].astype("str")
    assert not messages.str.contains(r"\b(?:nan|None|<NA>)\b").any(), messages[messages.str.contains("nan")]
    assert messages.str.contains("lease entry 192.168.64.7 ↔ no MAC").any()
