"""How a large fetch is shared among processes without breaking the per-host politeness.

Every host stays within ``max_per_host`` requests at once over all processes together:

* a host is fetched by one process, with the full limit, unless
* it holds more than its share of the batch and there is no delay between requests to
  it (``min_delay`` 0): then its URLs are dealt out to every process and each may open
  ``max_per_host // processes`` connections to it (at least one; the limit is then lowered
  for every host, to keep one setting per fetcher). With a delay the requests to one host
  are spaced in time anyway and splitting it would break the spacing: it stays whole.

Pure: host names in, index lists out.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Part:
    indices: list[int] = field(default_factory=list)
    max_per_host: int = 1


def split_for_processes(hosts: list[str], processes: int, max_per_host: int, min_delay: float) -> list[Part]:
    """Parts (source indices, per-host limit) for up to ``processes`` processes; one part
    when splitting would not help (one process, or all sources on one host with a delay)."""
    processes = max(1, min(processes, max_per_host if min_delay == 0 else processes, len(hosts)))
    by_host: dict[str, list[int]] = {}
    for i, h in enumerate(hosts):
        by_host.setdefault(h, []).append(i)
    share = len(hosts) / processes
    big = [h for h, idx in by_host.items() if len(idx) > share and min_delay == 0]
    if processes == 1 or (len(by_host) == 1 and not big):
        return [Part(list(range(len(hosts))), max_per_host)]
    limit = max(1, max_per_host // processes) if big else max_per_host
    parts = [Part(max_per_host=limit) for _ in range(processes)]
    for h in big:
        for k, i in enumerate(by_host[h]):
            parts[k % processes].indices.append(i)
    for h in sorted((h for h in by_host if h not in big), key=lambda h: -len(by_host[h])):
        min(parts, key=lambda p: len(p.indices)).indices.extend(by_host[h])  # least loaded first
    return [p for p in parts if p.indices]
