"""Focused tests for the Multipass CLI parsers (client, list, info, version, driver, DB, attempts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mpkit.golden import frame_to_golden
from mpkit.parsers import module, parse
from mpkit.schema import coverage_of

KINDS = ("client", "probe_attempts", "multipass_list", "multipass_list_text", "multipass_info", "multipass_info_text", "multipass_version", "local_driver",
         "vm_instances")  # fmt: skip
CASES = Path(__file__).resolve().parents[2] / "shared" / "cases"
CASE_FILES = {"client.txt": "client", "multipass-list.txt": "multipass_list_text", "multipass-info.txt": "multipass_info_text",
              "multipass-version.txt": "multipass_version"}  # fmt: skip


def _rows(kind: str, text: str) -> list[dict]:
    return frame_to_golden(parse(kind, text))["rows"]  # plain values: NA is None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "\x00\x01\x02\ufffd\ufffd binary \x7f",
        '{"list": [',
        "[" * 5000,
        "{}",
        "null",
        "plain prose, nothing else",
    ],
    ids=["empty", "blank", "binary", "truncated-json", "deep-json", "empty-object", "null", "prose"],
)
def test_never_raises_and_keeps_schema(kind: str, text: str) -> None:
    frame = parse(kind, text)
    assert list(frame.columns) == list(module(kind).SCHEMA)
    assert 0.0 <= module(kind).sniff(text) <= 1.0


@pytest.mark.skipif(not CASES.exists(), reason="shared cases not available")
def test_shared_case_files_parse_without_rejects() -> None:
    seen = 0
    for path in sorted(CASES.glob("*/*")):
        kind = CASE_FILES.get(path.name)
        if kind is None:
            continue
        frame = parse(kind, path.read_text(encoding="utf-8", errors="replace"))
        assert coverage_of(frame)["rejected"] == 0, path
        assert len(frame) > 0, path
        seen += 1
    assert seen >= 15


# client ---------------------------------------------------------------------------------------


def test_client_qemu_stderr_between_header_and_instance_line() -> None:
    text = (
        "start failed: The following errors occurred:        \n"
        "qemu-system-aarch64: Machine type received is 'virt-6.2' and local is 'virt-7.1'\n"
        "qemu-system-aarch64: Error -22 while loading VM state\n"
        "primary: shutdown called while starting\n"
    )
    rows = _rows("client", text)
    assert [r["kind"] for r in rows] == ["header", "qemu-stderr", "qemu-stderr", "shutdown-while-starting"]
    assert {r["instance"] for r in rows[1:]} == {"primary"}
    assert {r["command"] for r in rows} == {"start"}


def test_client_stderr_without_instance_line_and_unknown_last_error() -> None:
    rows = _rows(
        "client",
        "launch failed: The following errors occurred:\n"
        "Unexpected error in object_property_find_err() at ../../../qom/object.c:1330:\n"
        "qemu-system-aarch64: Property 'host-arm-cpu.sme' not found\n",
    )
    assert [r["kind"] for r in rows] == ["header", "qemu-stderr", "qemu-stderr"]
    rows = _rows(
        "client",
        "start failed: The following errors occurred:\nwarning: something odd\n"
        "vm1: qemu quit unexpectedly with exit code 1, check logs for more details\n",
    )
    assert [(r["kind"], r["instance"]) for r in rows] == [
        ("header", None),
        ("qemu-stderr", "vm1"),
        ("other", "vm1"),
    ]


def test_client_local_network_ssh_error() -> None:
    (row,) = _rows("client", "shell failed: ssh connection failed: 'Failed to connect: No route to host'\n")
    assert row["command"] == "shell"
    assert row["kind"] == "ssh"
    assert row["ssh_error"] == "Failed to connect: No route to host"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("primary: Instance shutdown during start", "shutdown-while-starting"),
        ("primary: Instance stopped while starting", "shutdown-while-starting"),
        ("primary: IP not available", "ip-not-found"),
        ("primary: Could not determine IP address within 1000ms", "ip-not-found"),
        ("primary: timed out waiting for response", "timeout"),
        ("launch failed: timed out waiting for initialization to complete", "init-timeout"),
        ("start failed: Instance 'primary' is already running, but in an unknown state", "unknown-state"),
        ("list failed: cannot connect to the multipass socket", "socket"),
        ("list failed: multipass socket access denied", "socket"),
        ("Timed out waiting for instance to start.", "client-timeout"),
        ("exec failed: ssh failed to authenticate: 'Access denied'", "ssh"),
    ],
)
def test_client_kinds(line: str, kind: str) -> None:
    (row,) = _rows("client", line + "\n")
    assert row["kind"] == kind


def test_client_blocks_spinner_and_verbose_lines() -> None:
    text = (
        "$ multipass start -vvvv primary\n"
        '[2024-10-05T18:05:19.211] [debug] [primary] QMP: {"timestamp": {"seconds": 1728144319}}\n'
        '{"continuation": true}\n'
        "\n"
        "Starting primary /\n"
        "|\n"
        "start failed: The following errors occurred:\n"
        "primary: timed out waiting for response\n"
        "\n"
        "shell failed: ssh connection failed: 'Connection refused'\n"
    )
    frame = parse("client", text)
    cov = coverage_of(frame)
    assert cov["rejected"] == 0
    assert frame["message"].tolist()[0] == "Starting primary"
    assert frame["block"].tolist() == [0, 0, 0, 1]  # the spinner lines belong to the same command
    assert frame["command"].tolist() == ["start", "start", "start", "shell"]


def test_client_rejects_prose_and_binary_but_keeps_other_lines_of_a_command() -> None:
    frame = parse("client", "hello, any idea?\n\nstart failed: something new happened\n\x00\x01junk\n")
    assert frame["kind"].tolist() == ["other"]
    assert coverage_of(frame)["rejected"] == 2


def test_client_sniff_is_low_for_a_daemon_log() -> None:
    log = "".join(
        f"[2024-10-05T18:05:{i:02}.211] [debug] [primary] Waiting for SSH to be up\n" for i in range(30)
    )
    assert module("client").sniff(log + "start failed: The following errors occurred:\n") < 0.5


# list / info ----------------------------------------------------------------------------------


def test_list_text_continuation_rows_and_na() -> None:
    text = (
        "Name                    State             IPv4             Image\n"
        "k8s                     Running           10.0.0.5         Ubuntu 24.04 LTS\n"
        "                                          10.1.0.1\n"
        "mini                    Running           N/A              Ubuntu 24.04 LTS\n"
        "stuck                   Unknown           --               Ubuntu 24.04 LTS\n"
    )
    rows = _rows("multipass_list_text", text)
    assert [(r["name"], r["ipv4"], r["ipv4_all"]) for r in rows] == [
        ("k8s", "10.0.0.5", "10.0.0.5,10.1.0.1"),
        ("mini", None, "N/A"),
        ("stuck", None, None),
    ]


def test_list_text_sniff_without_header_and_no_instances() -> None:
    row = "m8                      Running           192.168.64.12    Ubuntu 18.04 LTS   \n"
    assert module("multipass_list_text").sniff(row) >= 0.5
    assert module("multipass_list_text").sniff("No instances found.\n") >= 0.5
    assert parse("multipass_list_text", "No instances found.\n").empty


def test_list_json_empty_and_na_ipv4() -> None:
    text = '{"list": [{"ipv4": [], "name": "a", "release": "Not Available", "state": "Stopped"},\n' \
           ' {"ipv4": ["N/A"], "name": "b", "release": "Ubuntu 24.04 LTS", "state": "Running"}]}\n'  # fmt: skip
    rows = _rows("multipass_list", text)
    assert [(r["name"], r["ipv4"], r["ipv4_all"], r["source"]) for r in rows] == [
        ("a", None, None, "list"),
        ("b", None, "N/A", "list"),
    ]


def test_info_json_types() -> None:
    text = '{"errors": [], "info": {"p": {"cpu_count": "4", "memory": {"total": 4108210176, "used": 1},' \
           ' "ipv4": ["192.168.64.5"], "state": "Running", "release": "", "image_release": "24.04 LTS"}}}'  # fmt: skip
    (row,) = _rows("multipass_info", text)
    assert (row["cpus"], row["memory_total"], row["release"]) == (4, 4108210176, "Ubuntu 24.04 LTS")


def test_info_text_blocks_and_missing_name() -> None:
    text = "State:          Running\nIPv4:           192.168.64.9\n\nName: b\nState: Stopped\nIPv4: --\n"
    rows = _rows("multipass_info_text", text)
    assert [(r["line"], r["name"], r["state"], r["ipv4"]) for r in rows] == [
        (1, None, "Running", "192.168.64.9"),
        (4, "b", "Stopped", None),
    ]


def test_json_kinds_reject_every_line_of_broken_json_and_sample_one() -> None:
    for kind in ("multipass_list", "multipass_info", "vm_instances"):
        frame = parse(kind, '{\n  "x": {\n    "a": [1,\n')
        assert frame.empty
        cov = coverage_of(frame)
        assert (cov["lines"], cov["parsed"], cov["rejected"]) == (3, 0, 3)
        assert len(cov["rejects"]) == 1


# version / driver / DB / attempts ---------------------------------------------------------------


def test_version_text_and_json() -> None:
    rows = _rows("multipass_version", "multipass   1.14.0+mac\nmultipassd  1.14.0+mac\n")
    assert [(r["key"], r["value"]) for r in rows] == [
        ("multipass", "1.14.0+mac"),
        ("multipassd", "1.14.0+mac"),
    ]
    rows = _rows("multipass_version", '{"multipass": "1.16.0+mac", "update": {"title": "Multipass 1.16.1"}}')
    assert [(r["key"], r["value"]) for r in rows] == [
        ("multipass", "1.16.0+mac"),
        ("update_title", "Multipass 1.16.1"),
    ]


def test_local_driver_sniff_is_strict() -> None:
    sniff = module("local_driver").sniff
    assert sniff("qemu\n") >= 0.5
    assert sniff("applevz\n") >= 0.5
    assert sniff("qemu is the driver\n") == 0
    assert sniff("qemu\nhyperv\n") == 0
    assert sniff("true\n") == 0


def test_vm_instances_macs_loadvm_and_ghost() -> None:
    text = (
        '{"a": {"mac_addr": "52:54:0:a:b:c", "state": 8, "mem_size": "1073741824", "num_cores": 1,'
        ' "metadata": {"arguments": ["-nic", "vmnet-shared,model=virtio-net-pci,mac=52:54:00:0a:0b:0d",'
        ' "-loadvm", "suspend"]}, "extra_interfaces": [{"id": "en0", "mac_address": "52:54:00:1:2:3"}]},\n'
        ' "g": {"mac_addr": "", "state": 0, "mem_size": "", "disk_space": "", "num_cores": 0, "ssh_username": "",'
        ' "deleted": false, "metadata": {}, "mounts": [], "extra_interfaces": []}}'
    )
    a, g = _rows("vm_instances", text)
    assert (a["mac"], a["nic_mac"], a["state_name"], a["has_loadvm"]) == (
        "52:54:00:0a:0b:0c",
        "52:54:00:0a:0b:0d",
        "unknown",
        True,
    )
    assert (a["mem_size"], a["extra_macs"], a["ghost"]) == (1073741824, "52:54:00:01:02:03", False)
    assert g["ghost"] is True


def test_attempts_times_are_utc_and_bad_lines_counted() -> None:
    text = (
        '{"attempt": 1, "instance": "p", "command": ["multipass", "start", "p"], "started_at": "2026-11-25T11:00:00+01:00",'
        ' "ended_at": "2026-11-25T10:05:00Z", "duration_s": 300, "exit_code": 2, "outcome": "timeout"}\n'
        "not json\n"
    )
    frame = parse("probe_attempts", text)
    assert str(frame["started_at"].dt.tz) == "UTC"
    assert frame["started_at"].iloc[0].hour == 10
    assert frame["command"].iloc[0] == "multipass start p"
    assert coverage_of(frame)["rejected"] == 1
