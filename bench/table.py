"""The benchmarks' result table: each figure, its value, its target and a verdict."""

from __future__ import annotations


def _verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


class Table:
    """Rows of (figure, value, target, verdict); notes are rows with a name only."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []
        self.failures = 0

    def row(self, name: str, value: str, target: str = "", ok: bool | None = None) -> None:
        if ok is False:
            self.failures += 1
        self.rows.append((name, value, target, "" if ok is None else _verdict(ok)))

    def note(self, text: str) -> None:
        self.rows.append((text, "", "", ""))

    def render(self) -> str:
        figures = [r for r in self.rows if r[1] or r[2] or r[3]]
        widths = [max(len(r[i]) for r in figures) for i in range(3)]
        lines = []
        for name, value, target, verdict in self.rows:
            if not value and not target and not verdict:
                lines.append(f"  {name}")
                continue
            lines.append(
                f"  {name:<{widths[0]}}  {value:>{widths[1]}}  {target:<{widths[2]}}  {verdict}"
            )
        return "\n".join(line.rstrip() for line in lines)
