"""Consistent pseudonyms for everything private in a bundle.

One :class:`Redactor` maps each real value to one pseudonym, the same in every
file and in the manifest:

* MAC addresses keep their vendor prefix (``52:54:00`` stays QEMU's) and their
  spelling (``52:54:0:a:b:c`` stays unpadded, ``52.54.0.a.b.c`` dotted); the
  multicast / locally-administered bits are kept;
* IPv4 addresses keep their class (private stays private in the same block,
  public stays public) and their subnet structure: addresses that share a /8,
  /16 or /24 still share it, and the host octet is kept, so a subnet
  conflict or a gateway ``.1`` is still visible; loopback, link-local,
  multicast, broadcast and netmasks are kept; IPv6 likewise (an EUI-64 address
  follows its MAC's pseudonym);
  a public address becomes another public address (never the same /24), and
  ``a.b.c.d.port`` (tcpdump) and netstat's shortened destinations (``81.2.69``,
  ``81.2.69/24``) follow the same map;
* host names, user names (from home-directory paths), DHCP client names that
  are not instance names, serial numbers, UUIDs and 32-hex machine / boot ids.

Every learned name is replaced wherever it occurs, also inside a longer token:
user ``alex`` turns instance ``alex-dev`` into ``user001-dev`` in every file
(names of three letters only where they stand apart from other letters and
digits, so that ``bob`` does not rewrite ``bobcat``); the instance names so
renamed are recorded in the map. A UUID is replaced inside longer tokens too
(``vm-<uuid>-disk``), and its undashed 32-hex spelling follows it.

Values that are not secrets survive: versions, states, message texts,
instance names that hold no learned name. The mapping (real → pseudonym) can
be saved to a file that must stay on the user's machine, outside the bundle.

>>> r = Redactor(seed=1, hostnames=["jane-laptop"])
>>> out = r.redact_text("jane-laptop dnsmasq-dhcp[7]: DHCPACK(mpqemubr0) 10.115.28.7 52:54:00:3c:0a:f1")
>>> "jane-laptop" in out, "52:54:00:" in out, "3c:0a:f1" in out, out.split()[3].startswith("10.")
(False, True, False, True)
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..i18n import Message
from ..macaddr import MAC_IN_TEXT, canon_mac
from .manifest import write_json_atomic

log = logging.getLogger(__name__)

METHOD = "pseudonym/1"

#: names that are never secrets, even when they appear where a host / user name would
ALLOW_NAMES = {
    "localhost",
    "localhost.localdomain",
    "ubuntu",
    "debian",
    "root",
    "admin",
    "user",
    "users",
    "default",
    "shared",
    "public",
    "multipass",
    "snap",
    "nobody",
    "daemon",
    "all users",
    "default user",
    "*",
    "no hostname",
    "system",
    "guest",
}

#: names that are also words of the bundle's own vocabulary (levels, states, tools, path parts):
#: still private when learned, but replaced only where no letter or digit touches them, so that
#: a user called ``info`` does not rewrite ``information``
VOCABULARY = {
    "host",
    "home",
    "info",
    "debug",
    "error",
    "warning",
    "trace",
    "running",
    "stopped",
    "unknown",
    "starting",
    "deleted",
    "suspended",
    "qemu",
    "dnsmasq",
    "bootpd",
    "kernel",
    "bridge",
    "primary",
    "instance",
    "local",
    "none",
    "null",
    "true",
    "false",
    "library",
    "test",
    "data",
    "state",
    "name",
    "image",
    "daemon",
    "network",
    "client",
    "server",
    "start",
    "launch",
    "mark",
}

#: names at most this long are, like :data:`VOCABULARY`, replaced only where no letter or digit touches them
SHORT_NAME = 3

#: locally administered prefixes that still say who made the NIC (QEMU/KVM, Docker, VirtualBox host-only)
KNOWN_LOCAL_PREFIXES = {"52:54:00", "02:42:ac", "0a:00:27"}

#: well-known ids that are not secrets (Hyper-V's Default Switch)
ALLOW_IDS = {"c08cb7b8-9b3c-408e-8e30-5e16a3aeb444"}

# --- patterns that teach the redactor names --------------------------------------------------
_HOST_PATTERNS = [
    # journalctl short-iso / short: "<ts> <host> <ident>[pid]:"
    re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+(?:[+-]\d\d:?\d\d|Z)? (?P<n>[^\s\[\]:]+) \S+?(?:\[\d+\])?: ", re.M),
    re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (?P<n>[^\s\[\]:]+) \S+?(?:\[\d+\])?: ", re.M),
    re.compile(r"^(?:Linux|Darwin|FreeBSD) (?P<n>\S+) \d", re.M),
    re.compile(r'"(?:_HOSTNAME|hostname|host_name|ComputerName|MachineName)"\s*:\s*"(?P<n>[^"]+)"', re.I),
    re.compile(
        r"^\s*(?:ComputerName|MachineName|Host ?Name|CSName|PSComputerName)\s*[:=]\s*(?P<n>\S+)", re.M | re.I
    ),
    re.compile(r"(?<![\w./-])(?P<n>[A-Za-z0-9][\w-]*)\.local(?![\w-])"),
    re.compile(r"\bCOMPUTERNAME=(?P<n>\S+)"),
]
_USER_PATTERNS = [
    re.compile(r"/(?:Users|home)/(?P<n>[^/\s'\",:;]+)"),
    re.compile(r"[A-Za-z]:\\{1,2}Users\\{1,2}(?P<n>[^\\\s'\",:;]+)", re.I),
    re.compile(r"\b(?:USER|LOGNAME|USERNAME|SUDO_USER)=(?P<n>[\w.-]+)"),
    re.compile(r'"(?:_USERNAME|user_name|username)"\s*:\s*"(?P<n>[^"]+)"', re.I),
]
_SERIAL_PATTERNS = [
    re.compile(r"Serial Number(?: \(system\))?\s*:\s*(?P<n>[A-Za-z0-9-]{4,})", re.I),
    re.compile(r'"IOPlatformSerialNumber"\s*=\s*"(?P<n>[^"]+)"'),
    re.compile(r'(?i)\bserial(?:[_ -]?(?:number|no|num))?"?\s*[:=]\s*"?(?P<n>[A-Za-z0-9][A-Za-z0-9-]{3,})'),
]
#: DHCP client names (the name a client sent; a VM's is its instance name)
_CLIENT_PATTERNS = [
    re.compile(r"^\s*name=(?P<n>.+?)\s*$", re.M),  # dhcpd_leases
    re.compile(r"^\d+ [0-9a-f:-]+ [\d.]+ (?P<n>\S+) \S+\s*$", re.M),  # dnsmasq.leases
    re.compile(r"DHCPACK\([^)]*\) [\d.]+ \S+ (?P<n>[^\s\"'\\,;]+)"),  # also inside a JSON string
    re.compile(r"DHCP \w+ \[[^\]]*\]: \S+ <(?P<n>[^>]+)>"),  # bootpd
    re.compile(r"(?:OFFER|ACK|NAK) sent <?(?P<n>[^<>]+?)>? \d+\.\d+\.\d+\.\d+"),
]
_INSTANCE_PATTERNS = [re.compile(r"^Name:\s+(?P<n>\S+)", re.M)]
_LIST_ROW = re.compile(
    r"^(?P<n>[a-z][a-z0-9-]*)\s+(?:Running|Stopped|Deleted|Starting|Restarting|Delayed Shutdown|Suspending|Suspended|Unknown)\b",
    re.M,
)

# --- patterns that are replaced directly -------------------------------------------------------
_UUID = re.compile(
    r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f])"
)
_HEX32 = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9a-f]{32}|[0-9A-F]{32})(?![0-9A-Fa-f])")
_LONG_HEXCOLON = re.compile(r"(?<![0-9A-Fa-f:])[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){6,}(?![0-9A-Fa-f:])")
_HEX12_MAC = re.compile(r"(?<![0-9A-Za-z-])[0-9A-F]{12}(?![0-9A-Za-z-])")
_IPV4 = re.compile(
    r"(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?!\.?[0-9A-Fa-f])"
)  # not the head of a dotted MAC
#: tcpdump's ``a.b.c.d.port`` (a fifth, decimal group; a dotted MAC has six)
_IPV4_PORT = re.compile(r"(?<![\w.])(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\.(\d{1,5})(?![\w.]|:[0-9A-Fa-f])")
#: netstat -rn shortens a route's destination: ``81.2.69``, ``81.2/16``, ``10/8`` (first column only)
_NETSTAT_DEST = re.compile(
    r"^(?P<d>\d{1,3}(?:\.\d{1,3}){0,2})(?P<m>/\d{1,2})?(?=[ \t]+\S+[ \t]+[A-Za-z123]*[UGH][A-Za-z123]*[ \t])",
    re.M,
)
#: an address spelled with dashes inside a host name (``ip-81-2-69-160.example.net``, ``81-2-69-160.isp``)
_IPV4_DASHED = re.compile(
    r"(?<![\w-])(?P<pre>[A-Za-z][A-Za-z0-9]*-)?(?P<ip>\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3})(?![\w-])(?P<dom>\.[A-Za-z])?"
)
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")

_CLEAN_PUBLIC = [o for o in range(1, 224) if o not in (10, 100, 127, 169, 172, 192, 198, 203)]

#: IPv4 categories: (fixed real prefix, fixed pseudo prefix, allowed values of the next octets)
_V4_CATS: list[tuple[str, tuple[int, ...], list[list[int]]]] = [
    ("p10", (10,), [list(range(256)), list(range(256))]),
    ("p172", (172,), [list(range(16, 32)), list(range(256))]),
    ("p192", (192, 168), [list(range(256))]),
    ("cgn", (100,), [list(range(64, 128)), list(range(256))]),
    ("pub", (), [_CLEAN_PUBLIC, list(range(256)), list(range(256))]),
]


def _v4_category(o: tuple[int, int, int, int]) -> str | None:
    """The pseudonym category of an address, or ``None`` when it is kept as is."""
    a, b, c, _ = o
    if a in (0, 127) or a >= 224 or (a == 169 and b == 254):
        return None
    if (a, b, c) in ((192, 0, 2), (198, 51, 100), (203, 0, 113)):  # documentation ranges
        return None
    if a == 10:
        return "p10"
    if a == 172 and 16 <= b <= 31:
        return "p172"
    if a == 192 and b == 168:
        return "p192"
    if a == 100 and 64 <= b <= 127:
        return "cgn"
    if a == 255 or (a, b) == (255, 255):
        return None
    return "pub"


class Redactor:
    """Pseudonymises text consistently; the mapping can be saved and loaded.

    ``hostnames`` / ``users`` / ``serials`` seed values known in advance (the
    local host name and user); :meth:`learn` finds more in texts.
    ``instances`` are instance names: never taken for a host or DHCP client
    name, and kept unless they hold a learned name (``alex-dev`` with user
    ``alex`` becomes ``user001-dev``, recorded under ``instance`` in the map).
    """

    def __init__(
        self,
        mapping: dict[str, Any] | None = None,
        *,
        hostnames: Iterable[str] = (),
        users: Iterable[str] = (),
        serials: Iterable[str] = (),
        instances: Iterable[str] = (),
        seed: int | None = None,
    ) -> None:
        self._rng = random.Random(seed)
        m = mapping or {}
        self.maps: dict[str, dict[str, str]] = {
            k: dict(m.get(k, {}))
            for k in ("mac", "ipv4", "ipv6", "host", "user", "client", "serial", "uuid", "id", "instance")
        }
        self.instances: set[str] = set(m.get("instances", [])) | set(instances)
        self._client_candidates: set[str] = set()
        self._literal_re: re.Pattern[str] | None = None
        self._pseudo: dict[str, str] = {}
        self._literal_dirty = True
        for h in hostnames:
            self.add("host", h)
        for u in users:
            self.add("user", u)
        for s in serials:
            self.add("serial", s)

    # ----- mapping file -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The mapping (real → pseudonym) as plain data, as :meth:`save` writes it."""
        return {"method": METHOD, **self.maps, "instances": sorted(self.instances)}

    def save(self, path: str | Path) -> Path:
        """Write the mapping (real → pseudonym). Keep this file private: it undoes the redaction."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, self.to_dict())
        try:
            path.chmod(0o600)
        except OSError:
            pass
        return path

    @classmethod
    def load(cls, path: str | Path, **kwargs: Any) -> Redactor:
        """A redactor that reuses the mapping saved at ``path`` (same pseudonyms again)."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("method") != METHOD:
            raise ValueError(f"{path}: not an mpkit redaction map ({METHOD})")
        return cls(data, **kwargs)

    # ----- learning ---------------------------------------------------------------------------
    def add(self, kind: str, value: str) -> None:
        """Declare ``value`` private (kind: ``host``, ``user``, ``client`` or ``serial``).

        A user name or serial is private even when an instance has the same name (the instance
        is then renamed); a host or DHCP client name that is an instance name is not.
        """
        value = value.strip().strip("\"',;")
        if not self._worth(value) or (kind in ("client", "host") and value in self.instances):
            return
        table = self.maps[kind]
        low = value.lower()
        if any(low == known.lower() for k in ("host", "user", "client", "serial") for known in self.maps[k]):
            return  # names are case-insensitive: "Janes-MBP" and "janes-mbp" are one host
        if kind == "host" and "." in value:  # "jane-mbp.example.org": the short name is private too
            self.add("host", value.split(".", 1)[0])
        table[value] = self._new_name(kind, len(table) + 1)
        self._literal_dirty = True

    def _worth(self, value: str) -> bool:
        if len(value) < 3 or value.lower() in ALLOW_NAMES:
            return False
        if _IPV4.fullmatch(value) or canon_mac(value):
            return False
        return not value.isdigit()

    def _new_name(self, kind: str, n: int) -> str:
        if kind == "serial":
            return "SERIAL" + "".join(
                self._rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(6)
            )
        prefix = {"host": "host", "user": "user", "client": "client"}[kind]
        return f"{prefix}{n:03d}"

    def learn(self, text: str) -> None:
        """Find host names, user names, instance names, client names and serials in ``text``."""
        for pat in _INSTANCE_PATTERNS:
            self.instances.update(m.group("n") for m in pat.finditer(text))
        self.instances.update(m.group("n") for m in _LIST_ROW.finditer(text))
        self.instances.update(_json_instances(text))
        for kind, pats in (("host", _HOST_PATTERNS), ("user", _USER_PATTERNS), ("serial", _SERIAL_PATTERNS)):
            for pat in pats:
                for m in pat.finditer(text):
                    self.add(kind, m.group("n"))
        for pat in _CLIENT_PATTERNS:
            self._client_candidates.update(m.group("n").strip() for m in pat.finditer(text))
        for m in _UUID.finditer(text):  # so that an undashed spelling met first follows it too
            self._uuid(m)

    def settle(self) -> None:
        """Turn the DHCP client names seen so far into pseudonyms, except instance names.

        Instance names that hold a private name are recorded with their new spelling (``instance``
        in the map), so that the map undoes them too.
        """
        for name in sorted(self._client_candidates - self.instances):
            self.add("client", name)
        self._client_candidates.clear()
        lit = self._literals()
        if lit is not None:
            for name in sorted(self.instances - set(self.maps["instance"])):
                new = lit.sub(self._literal_sub, name)
                if new != name:
                    self.maps["instance"][name] = new

    # ----- substitution -----------------------------------------------------------------------
    def _literals(self) -> re.Pattern[str] | None:
        """One pattern for every learned name: anywhere (inside longer tokens too), except short
        names and vocabulary words, which must stand apart from letters and digits."""
        if self._literal_dirty:
            self._pseudo = {}
            for k in ("serial", "client", "user", "host"):  # on a clash, the first kind wins
                for real, pseudo in self.maps[k].items():
                    self._pseudo.setdefault(real.lower(), pseudo)
            names = sorted(self._pseudo, key=len, reverse=True)
            alts = [
                f"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])"
                if len(n) <= SHORT_NAME or n in VOCABULARY
                else re.escape(n)
                for n in names
            ]
            self._literal_re = re.compile("|".join(alts), re.I) if alts else None
            self._literal_dirty = False
        return self._literal_re

    def _literal_sub(self, m: re.Match[str]) -> str:
        found = m.group(0)
        return self._pseudo.get(found.lower(), found)

    def names_known(self) -> int:
        """How many names (host, user, client, serial) are known so far."""
        return sum(len(self.maps[k]) for k in ("host", "user", "client", "serial"))

    def redact_names(self, text: str) -> str:
        """``text`` with only the learned names replaced (for text already redacted otherwise)."""
        self.settle()
        lit = self._literals()
        return lit.sub(self._literal_sub, text) if lit is not None else text

    def redact_text(self, text: str, *, learn: bool = True) -> str:
        """``text`` with every private value replaced by its pseudonym."""
        if learn:
            self.learn(text)
        self.settle()
        lit = self._literals()
        if lit is not None:
            text = lit.sub(self._literal_sub, text)
        text = _UUID.sub(self._uuid, text)
        text = _HEX32.sub(self._hex32, text)
        text = _LONG_HEXCOLON.sub(self._hexcolon, text)
        text = MAC_IN_TEXT.sub(self._mac_match, text)
        text = _HEX12_MAC.sub(self._hex12, text)
        text = _NETSTAT_DEST.sub(self._netstat_dest, text)
        text = _IPV4_DASHED.sub(self._ipv4_dashed, text)
        text = _IPV4_PORT.sub(self._ipv4_port, text)
        text = _IPV4.sub(self._ipv4_match, text)
        text = _IPV6.sub(self._ipv6_match, text)
        return text

    def redact_bytes(self, data: bytes, *, learn: bool = True) -> bytes:
        """:meth:`redact_text` for bytes; bytes that are not UTF-8 pass through unchanged."""
        return self.redact_text(data.decode("utf-8", "surrogateescape"), learn=learn).encode(
            "utf-8", "surrogateescape"
        )

    def redact_obj(self, obj: Any) -> Any:
        """A JSON-like object with every string (keys too) redacted."""
        if isinstance(obj, str):
            return self.redact_text(obj, learn=False)
        if isinstance(obj, list):
            return [self.redact_obj(v) for v in obj]
        if isinstance(obj, dict):
            return {self.redact_obj(k): self.redact_obj(v) for k, v in obj.items()}
        return obj

    # ids
    def _uuid(self, m: re.Match[str]) -> str:
        real = m.group(0)
        if real.lower() in ALLOW_IDS or set(real) <= {"0", "-"}:
            return real
        key = real.lower()
        if key not in self.maps["uuid"]:
            h = f"{self._rng.getrandbits(128):032x}"
            self.maps["uuid"][key] = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"
        out = self.maps["uuid"][key]
        return out.upper() if real.isupper() else out

    def _hex32(self, m: re.Match[str]) -> str:
        real = m.group(0)
        key = real.lower()
        dashed = f"{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:]}"
        if dashed in self.maps["uuid"]:  # a UUID written without its dashes
            out = self.maps["uuid"][dashed].replace("-", "")
        else:
            if key not in self.maps["id"]:
                self.maps["id"][key] = f"{self._rng.getrandbits(128):032x}"
            out = self.maps["id"][key]
        return out.upper() if real.isupper() else out

    # MACs
    def mac(self, canon: str) -> str:
        """The pseudonym of a canonical MAC (canonical too)."""
        octets = [int(p, 16) for p in canon.split(":")]
        if all(o == 0 for o in octets) or all(o == 255 for o in octets) or octets[0] & 1:
            return canon
        if canon not in self.maps["mac"]:
            # a vendor prefix is kept; a random (locally administered) one is not, unless well known
            keep = 3 if (not octets[0] & 2 or canon[:8] in KNOWN_LOCAL_PREFIXES) else 1
            used = set(self.maps["mac"].values())
            while True:
                new = octets[:keep] + [self._rng.randrange(256) for _ in range(6 - keep)]
                cand = ":".join(f"{o:02x}" for o in new)
                if cand != canon and cand not in used:
                    break
            self.maps["mac"][canon] = cand
        return self.maps["mac"][canon]

    @staticmethod
    def _render_mac(canon: str, like: str) -> str:
        sep = next((c for c in like if c in ":.-"), ":")
        parts = like.split(sep)
        padded = all(len(p) == 2 for p in parts)
        octs = [int(p, 16) for p in canon.split(":")]
        text = sep.join((f"{o:02x}" if padded else f"{o:x}") for o in octs)
        return text.upper() if any(c.isupper() for c in like) else text

    def _mac_match(self, m: re.Match[str]) -> str:
        real = m.group(0)
        canon = canon_mac(real)
        if canon is None:
            return real
        return self._render_mac(self.mac(canon), real)

    def _hex12(self, m: re.Match[str]) -> str:
        real = m.group(0)
        if real.isdigit():
            return real
        canon = canon_mac(real)
        return self.mac(canon).replace(":", "").upper() if canon else real

    def _hexcolon(self, m: re.Match[str]) -> str:
        """Client ids / DUIDs: a MAC inside keeps following that MAC's pseudonym."""
        real = m.group(0)
        parts = real.split(":")
        padded = all(len(p) == 2 for p in parts)
        octs = [int(p, 16) for p in parts]
        if len(octs) == 7 and octs[0] == 1:
            new = [1] + [int(p, 16) for p in self.mac(":".join(f"{o:02x}" for o in octs[1:])).split(":")]
        else:
            tail = ":".join(f"{o:02x}" for o in octs[-6:])
            if tail in self.maps["mac"]:
                new = octs[:-6] + [int(p, 16) for p in self.maps["mac"][tail].split(":")]
            else:
                key = ":".join(f"{o:02x}" for o in octs)
                if key not in self.maps["id"]:
                    self.maps["id"][key] = ":".join(
                        f"{o:02x}" for o in octs[:1] + [self._rng.randrange(256) for _ in octs[1:]]
                    )
                new = [int(p, 16) for p in self.maps["id"][key].split(":")]
        return ":".join((f"{o:02x}" if padded else f"{o:x}") for o in new)

    # IPv4
    def ipv4(self, addr: str) -> str:
        """The pseudonym of a dotted-quad address (same block and subnet structure)."""
        o = tuple(int(x) for x in addr.split("."))
        if len(o) != 4 or any(x > 255 for x in o):
            return addr
        cat = _v4_category((o[0], o[1], o[2], o[3]))
        if cat is None:
            return addr
        _, fixed, levels = next(c for c in _V4_CATS if c[0] == cat)
        out = list(fixed)
        for i, allowed in enumerate(levels):
            pos = len(fixed) + i
            parent = ".".join(str(x) for x in o[:pos])
            key = f"{cat}|{parent}|{o[pos]}"
            table = self.maps["ipv4"]
            if key not in table:
                used = {v for k, v in table.items() if k.startswith(f"{cat}|{parent}|")}
                used.add(str(o[pos]))  # never the real value: an unchanged address would be no pseudonym
                free = [str(x) for x in allowed if str(x) not in used]
                if not free:
                    free = [str(x) for x in allowed if x != o[pos]] or [str(x) for x in allowed]
                table[key] = self._rng.choice(free)
            out.append(int(table[key]))
        out.append(o[3])
        return ".".join(str(x) for x in out)

    def _ipv4_match(self, m: re.Match[str]) -> str:
        return self.ipv4(m.group(0))

    def _ipv4_port(self, m: re.Match[str]) -> str:
        return f"{self.ipv4(m.group(1))}.{m.group(2)}"

    def _netstat_dest(self, m: re.Match[str]) -> str:
        """netstat's shortened network (``81.2.69`` is 81.2.69.0): as many octets as printed."""
        parts = m.group("d").split(".")
        full = self.ipv4(".".join(parts + ["0"] * (4 - len(parts))))
        return ".".join(full.split(".")[: len(parts)]) + (m.group("m") or "")

    def _ipv4_dashed(self, m: re.Match[str]) -> str:
        """``ip-10-0-0-5``, ``81-2-69-160.static.example.net``: an address inside a host name."""
        if m.group("pre") is None and m.group("dom") is None:
            return m.group(0)
        new = self.ipv4(m.group("ip").replace("-", ".")).replace(".", "-")
        return (m.group("pre") or "") + new + (m.group("dom") or "")

    # IPv6
    def _ipv6_match(self, m: re.Match[str]) -> str:
        real = m.group(0)
        try:
            ip = ipaddress.IPv6Address(real)
        except ValueError:
            return real
        if ip.is_loopback or ip.is_unspecified or ip.is_multicast or ip.ipv4_mapped:
            return real
        packed = int(ip)
        prefix, iid = packed >> 64, packed & ((1 << 64) - 1)
        iid_bytes = iid.to_bytes(8, "big")
        if iid_bytes[3:5] == b"\xff\xfe":  # EUI-64: the IID is a MAC
            mac_b = bytes([iid_bytes[0] ^ 2]) + iid_bytes[1:3] + iid_bytes[5:8]
            new_mac = bytes(int(p, 16) for p in self.mac(":".join(f"{b:02x}" for b in mac_b)).split(":"))
            new_iid = int.from_bytes(
                bytes([new_mac[0] ^ 2]) + new_mac[1:3] + b"\xff\xfe" + new_mac[3:6], "big"
            )
        elif iid < 0x10000:  # ::1, ::2 … gateway-like ids are not private
            new_iid = iid
        else:
            key = f"iid|{iid:016x}"
            if key not in self.maps["ipv6"]:
                self.maps["ipv6"][key] = f"{self._rng.getrandbits(64):016x}"
            new_iid = int(self.maps["ipv6"][key], 16)
        if ip.is_link_local:
            new_prefix = prefix
        else:
            key = f"pfx|{prefix:016x}"
            if key not in self.maps["ipv6"]:
                head = prefix >> 56  # keep the first byte: ULA stays fdxx, global stays 2xxx
                self.maps["ipv6"][key] = f"{(head << 56) | self._rng.getrandbits(56):016x}"
            new_prefix = int(self.maps["ipv6"][key], 16)
        out = str(ipaddress.IPv6Address((new_prefix << 64) | new_iid))
        return out.upper() if any(c.isupper() for c in real) else out


def _json_instances(text: str) -> set[str]:
    """Instance names in ``multipass list/info --format json`` or the instance database."""
    head = text.lstrip()[:1]
    if head != "{" or len(text) > 5_000_000:
        return set()
    try:
        doc = json.loads(text)
    except ValueError:
        return set()
    if not isinstance(doc, dict):
        return set()
    names: set[str] = set()
    if isinstance(doc.get("list"), list):
        names.update(str(i["name"]) for i in doc["list"] if isinstance(i, dict) and "name" in i)
    if isinstance(doc.get("info"), dict):
        names.update(str(k) for k in doc["info"])
    if doc and all(isinstance(v, dict) and "mac_addr" in v for v in doc.values()):
        names.update(str(k) for k in doc)
    return names


# ---------------------------------------------------------------------------------------------


def looks_binary(data: bytes) -> bool:
    """Whether ``data`` looks binary (a NUL byte near the start), so it is not redacted as text."""
    return b"\x00" in data[:8192]


def default_map_path(out: Path) -> Path:
    """Where the mapping goes by default: next to the bundle, never inside it."""
    name = out.name
    for suffix in (".tar.gz", ".tgz", ".zip"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return out.with_name(f"{name}.redaction-map.json")


def check_map_outside(map_path: Path, bundle: Path) -> None:
    """Refuse a mapping file inside the bundle: it would undo the redaction for anyone who gets it."""
    from ..errors import CollectError

    try:
        map_path.resolve().relative_to(bundle.resolve())
    except ValueError:
        return
    raise CollectError(
        Message(
            "the redaction map {map_path} would be inside the bundle {bundle}; choose a path outside it (the map undoes the redaction)",
            map_path=map_path,
            bundle=bundle,
        )
    )


def _read_bundle(src: Path) -> dict[str, bytes]:
    """Every regular file of a bundle directory or archive, by relative POSIX path."""
    import tarfile
    import zipfile

    from ..errors import CollectError

    files: dict[str, bytes] = {}

    def ok(name: str) -> bool:
        parts = Path(name).parts
        return bool(parts) and not Path(name).is_absolute() and ".." not in parts

    if src.is_dir():
        for p in sorted(src.rglob("*")):
            if p.is_file() and not p.is_symlink():
                files[p.relative_to(src).as_posix()] = p.read_bytes()
        return files
    name = src.name.lower()
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(src) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and ok(m.name)]
            for m in members:
                fh = tar.extractfile(m)
                if fh is not None:
                    files[m.name] = fh.read()
    elif name.endswith(".zip"):
        with zipfile.ZipFile(src) as zf:
            for info in zf.infolist():
                if not info.is_dir() and ok(info.filename):
                    files[info.filename] = zf.read(info)
    else:
        raise CollectError(Message("{src}: not a bundle directory or a .tar.gz/.tgz/.zip archive", src=src))
    # an archive made from a folder holds "<folder>/..." : strip that common top folder
    tops = {k.split("/", 1)[0] for k in files}
    if len(tops) == 1 and all("/" in k for k in files):
        files = {k.split("/", 1)[1]: v for k, v in files.items()}
    return files


def redact_bundle(src: str | Path, out: str | Path, *, map_path: str | Path | None = None) -> Path:
    """Write a redacted copy of bundle ``src`` (directory or archive) to ``out``.

    ``out`` is a new directory, or an archive path ending in ``.tar.gz``/``.tgz``.
    The mapping is loaded from / saved to ``map_path`` (default: next to
    ``out``, ``<name>.redaction-map.json``), which must be outside ``out``;
    reusing a map keeps pseudonyms consistent across bundles. Binary files
    cannot be checked and are left out (listed in the manifest).
    """
    import io
    import tarfile

    from ..errors import CollectError
    from .manifest import NAME, iso, utc_now

    src_p, out_p = Path(src), Path(out)
    if not src_p.exists():
        raise CollectError(Message("{src} does not exist; pass a bundle directory or archive", src=src_p))
    if out_p.exists() and (not out_p.is_dir() or any(out_p.iterdir())):
        raise CollectError(Message("{out} already exists; choose a new output path with -o", out=out_p))
    mpath = Path(map_path) if map_path else default_map_path(out_p)
    archive = out_p.name.endswith((".tar.gz", ".tgz"))
    check_map_outside(mpath, out_p)
    files = _read_bundle(src_p)
    red = Redactor.load(mpath) if mpath.exists() else Redactor()
    text_files = {k: v for k, v in files.items() if not looks_binary(v)}
    dropped = sorted(set(files) - set(text_files))
    for data in text_files.values():  # pass 1: learn every name, so that all files agree
        red.learn(data.decode("utf-8", "surrogateescape"))
    red.settle()
    result: dict[str, bytes] = {}
    manifest_doc: dict[str, Any] | None = None
    for rel, data in text_files.items():
        if rel == NAME:
            try:
                manifest_doc = json.loads(data)
                continue
            except ValueError:
                pass
        result[red.redact_text(rel, learn=False)] = red.redact_bytes(data, learn=False)
    if not isinstance(manifest_doc, dict):
        manifest_doc = {
            "format": "mpkit-bundle/1",
            "created_at": iso(utc_now()),
            "mode": "hand-made",
            "artifacts": [],
        }
    doc = red.redact_obj(manifest_doc)
    doc["redacted"] = {"method": METHOD, "map_kept_locally": True, "at": iso(utc_now())}
    if dropped:
        doc["redaction_dropped"] = [red.redact_text(d, learn=False) for d in dropped]
    result[NAME] = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
    if archive:
        out_p.parent.mkdir(parents=True, exist_ok=True)
        top = out_p.name.rsplit(".t", 1)[0]
        with tarfile.open(out_p, "w:gz") as tar:
            for rel, data in sorted(result.items()):
                info = tarfile.TarInfo(f"{top}/{rel}")
                info.size = len(data)
                info.mtime = int(utc_now().timestamp())
                tar.addfile(info, io.BytesIO(data))
    else:
        for rel, data in sorted(result.items()):
            target = (out_p / rel).resolve()
            if not target.is_relative_to(out_p.resolve()):
                raise CollectError(Message("refusing to write outside {out}: {rel!r}", out=out_p, rel=rel))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    red.save(mpath)
    log.info("redacted %d files into %s (map: %s)", len(result), out_p, mpath)
    return out_p
