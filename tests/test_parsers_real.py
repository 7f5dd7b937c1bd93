"""Host-output parsers on real recorded outputs (tests/data/real/<kind>/, see tests/data/README.md).

Every line of a real output must be read (zero rejected lines), the frame must keep its schema,
and a few facts per shape are checked by hand.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mpkit.parsers import module, parse
from mpkit.schema import coverage_of

REAL = Path(__file__).parent / "data" / "real"
FILES = sorted(REAL.glob("*/*.txt"))


def test_real_outputs_are_attributed() -> None:
    readme = (REAL.parent / "README.md").read_text(encoding="utf-8")
    assert FILES
    for path in FILES:
        assert f"`{path.relative_to(REAL).as_posix()}`" in readme, f"{path.name}: no attribution in README"


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(REAL).as_posix() for p in FILES])
def test_real_output_parses_without_rejects(path: Path) -> None:
    kind = path.parent.name
    text = path.read_text(encoding="utf-8")
    frame = parse(kind, text)
    cov = coverage_of(frame)
    assert cov["rejected"] == 0, cov["rejects"]
    assert len(frame) > 0
    assert list(frame.columns[: len(module(kind).SCHEMA)]) == list(module(kind).SCHEMA)
    # the sniffer recognises it too (a pasted output is identified by content)
    assert module(kind).sniff(text) >= 0.5


def _frame(name: str) -> pd.DataFrame:
    path = REAL / name
    return parse(path.parent.name, path.read_text(encoding="utf-8"))


def test_linux_netstat_r_with_names() -> None:
    f = _frame("routes/jc-ubuntu-18.04-netstat-r.txt")
    assert f["destination"].tolist() == ["default", "192.168.71.0", "_gateway"]
    default = f[f["is_default"].fillna(False)].iloc[0]
    assert (default["gateway"], default["interface"], default["flags"]) == ("_gateway", "ens33", "UG")
    assert f["gateway"].isna().sum() == 2  # 0.0.0.0: on-link
    assert set(f["family"].astype(str)) == {"inet"} and f["metric"].isna().all()


def test_route_metric_and_numeric_default() -> None:
    f = _frame("routes/jc-ubuntu-18.04-route-vn.txt")
    default = f[f["is_default"].fillna(False)]
    assert len(default) == 1 and default.iloc[0]["destination"] == "0.0.0.0"
    assert default.iloc[0]["gateway"] == "192.168.71.2" and default.iloc[0]["metric"] == 100
    assert str(f["metric"].dtype) == "Int64"


def test_route_6_names_and_brackets() -> None:
    f = _frame("routes/jc-centos-7.7-route-6.txt")
    assert set(f["family"].astype(str)) == {"inet6"}
    gw = f[f["gateway"] == "gateway"]
    assert set(gw["destination"]) == {"2600:1700:bab0:d40::/60", "[::]/0"}
    assert f[f["destination"] == "localhost/128"].iloc[0]["interface"] == "lo"


def test_ufw_rules_with_interfaces_ports_and_protocols() -> None:
    f = _frame("host_firewall/jc-ubuntu-18.04-ufw-verbose.txt")
    rules = f[f["record"] == "rule"]
    assert len(rules) == 15
    on_eth0 = rules[rules["interface"] == "eth0"]
    assert on_eth0["dport"].tolist() == ["80", "80"]
    assert rules.iloc[1][["dport", "proto"]].tolist() == ["80,443", "tcp"]
    assert not rules["drops_dhcp"].any()
    numbered = _frame("host_firewall/jc-generic-ufw-numbered2.txt")
    assert (numbered["record"] == "rule").sum() == 15
