"""The disclosure audit: what a determined reader can compute from everything published.

Pure functions, no database. Every published number is a sum of *atoms*, the finest counts
the data could be split into (for example: referrals of one month, one municipality, one
intake route, one status). A shown number fixes its sum exactly, a shown 0 fixes every atom in
it at 0, a primary-suppressed cell ("<10") says its sum lies in 1..threshold-1, and a
secondary-suppressed cell ("×") says nothing. The attacker's lowest and highest value of a
primary cell are then two linear programs (minimise and maximise the cell's sum over all
non-negative atoms that satisfy every published number); we solve them with SciPy's HiGHS
solver, as statistical offices do (τ-ARGUS, sdcTable). The linear relaxation is the standard
audit: an integer attacker cannot do better than the relaxation's bounds allow.
"""
from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Hashable, Iterable, Sequence

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

EPSILON = 1e-6


class Status(str, enum.Enum):
    SHOWN = "shown"
    PRIMARY = "primary"          # 1..threshold-1, shown as "<threshold"
    SECONDARY = "secondary"      # hidden so that a primary cell keeps its interval, shown as "×"
    # Never published: the difference of one published number between two data states (a
    # correction). It constrains nothing; the audit only asks how well a reader can compute it.
    CORRECTION = "correction"


@dataclass
class AuditCell:
    """One published number as the attacker sees it."""

    atoms: frozenset[Hashable]
    status: Status
    value: int | None = None     # the shown value; None where hidden (the audit never needs it)
    tag: Hashable = None         # who the cell is, for the caller
    sensitive: bool = False      # a count of 1..threshold-1: must keep its protection interval
    minus: frozenset[Hashable] = frozenset()   # for a correction: the atoms of ``atoms`` counted negatively


@dataclass
class Interval:
    cell: int                    # index into the audited cells
    low: float
    high: float
    blockers: frozenset[int] = frozenset()   # cells whose published bound narrows a failing side
    exact: bool = True           # False: values seen at feasible points, already far enough apart


class AuditInconsistent(Exception):
    """The published numbers contradict each other (data corrected between releases)."""


class PublicationRefused(Exception):
    """No suppression pattern found that keeps every hidden cell protected."""


@dataclass
class Protection:
    """How far apart the attacker's lowest and highest value of a hidden small count must stay.

    The default is a width of 5 (of the 8 that 1..9 spans). ``width=None`` asks for the whole
    range 1..threshold-1; that holds for a single release but cannot hold across nested ones
    (a year whose two quarters each hide a count of at least 1 is itself at least 2), so with it
    such a year is refused rather than published."""

    threshold: int = 10
    width: int | None = 5

    def holds(self, low: float, high: float) -> bool:
        if self.width is None:
            return low <= 1 + EPSILON and high >= self.threshold - 1 - EPSILON
        return high - low >= self.width - EPSILON

    def wide(self, low: float, high: float, correction: bool = False) -> bool:
        """Protected whatever the interval's exact ends: true of every wider interval too."""
        if correction:
            return high - low >= (self.width or self.threshold - 2) - EPSILON
        return self.holds(low, high)

    def holds_correction(self, low: float, high: float) -> bool:
        """A correction (new state minus old) the reader can narrow down is safe only when it is
        known to be 0 or at least the threshold either way; otherwise it may be a small change
        (one family's record moved) and must stay as wide as a small count's interval."""
        if self.wide(low, high, correction=True):
            return True
        pinned_zero = abs(low) <= EPSILON and abs(high) <= EPSILON
        return pinned_zero or low >= self.threshold - EPSILON or high <= -self.threshold + EPSILON


def _components(cells: Sequence[AuditCell]) -> list[list[int]]:
    """Groups of cells that share atoms, directly or through others: separate linear programs."""
    parent = list(range(len(cells)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[Hashable, int] = {}
    for index, cell in enumerate(cells):
        for atom in cell.atoms:
            if atom in owner:
                a, b = find(owner[atom]), find(index)
                if a != b:
                    parent[a] = b
            else:
                owner[atom] = index
    groups: dict[int, list[int]] = defaultdict(list)
    for index in range(len(cells)):
        groups[find(index)].append(index)
    return list(groups.values())


class Solved:
    """What one audit learnt, for the next round of secondary suppression: the components (which
    cells share atoms does not depend on what is hidden) and each component's intervals, keyed by
    the status and value of every cell in it. A round re-solves only the components in which it
    hid something; the others have the same linear programs, so the same answers."""

    def __init__(self) -> None:
        self.components: list[list[int]] | None = None
        self.results: dict[tuple, list[Interval]] = {}


def intervals(cells: Sequence[AuditCell], protection: Protection,
              only: Iterable[int] | None = None, solved: Solved | None = None) -> list[Interval]:
    """The attacker's lowest and highest value of every hidden sensitive cell (or of those in ``only``)."""
    wanted = set(only) if only is not None else None
    if solved is None:
        solved = Solved()
    if solved.components is None:
        solved.components = _components(cells)
    result: list[Interval] = []
    for component in solved.components:
        targets = [i for i in component if cells[i].sensitive and cells[i].status != Status.SHOWN
                   and (wanted is None or i in wanted)]
        if not targets:
            continue
        key = (tuple(targets), tuple((cells[i].status, cells[i].value) for i in component))
        if key not in solved.results:
            solved.results[key] = _solve_component(cells, component, targets, protection)
        result.extend(solved.results[key])
    return result


def linprog(*args: Any, **kwargs: Any) -> Any:
    """SciPy's ``linprog`` (HiGHS), imported at the first audit rather than with this module."""
    from scipy.optimize import linprog as solve
    return solve(*args, **kwargs)


def _solve_component(cells: Sequence[AuditCell], component: list[int], targets: list[int],
                     protection: Protection) -> list[Interval]:
    # Imported here, not with the module: NumPy and SciPy are some 60 MB of every app worker's memory,
    # and only the disclosure audit (a release being computed) needs them.
    import numpy as np
    from scipy.sparse import csr_matrix
    threshold = protection.threshold
    zero: set[Hashable] = set()
    for i in component:
        if cells[i].status == Status.SHOWN and cells[i].value == 0:
            zero.update(cells[i].atoms)
    # Atoms in exactly the same cells are one variable to the attacker: merge them.
    # (A correction counts some atoms negatively: those are marked by a negative cell number.)
    signature: dict[Hashable, list[int]] = defaultdict(list)
    for i in component:
        minus = cells[i].minus
        for atom in cells[i].atoms:
            if atom not in zero:
                signature[atom].append(-i - 1 if atom in minus else i)
    columns: dict[tuple[int, ...], int] = {}
    for members in signature.values():
        columns.setdefault(tuple(members), len(columns))
    n = len(columns)
    cell_columns: dict[int, list[int]] = defaultdict(list)
    negative: dict[int, list[int]] = defaultdict(list)
    for members, column in columns.items():
        for i in members:
            if i >= 0:
                cell_columns[i].append(column)
            else:
                negative[-i - 1].append(column)
    eq_rows, eq_b, ub_rows, ub_b = [], [], [], []
    eq_owner: list[int] = []
    ub_owner: list[int] = []
    for i in component:
        cell, cols = cells[i], cell_columns.get(i, [])
        if cell.status == Status.SHOWN:
            if cell.value and not cols:
                raise AuditInconsistent(f"cell {cell.tag!r} is shown as {cell.value} but all its parts are 0")
            if cols:
                eq_rows.append(cols)
                eq_b.append(cell.value)
                eq_owner.append(i)
        elif cell.status == Status.PRIMARY:
            if not cols:
                raise AuditInconsistent(f"hidden cell {cell.tag!r} has all its parts shown as 0")
            ub_rows.append((cols, 1.0))
            ub_b.append(threshold - 1)
            ub_rows.append((cols, -1.0))
            ub_b.append(-1)
            ub_owner.extend([i, i])

    def matrix(rows: list[tuple[list[int], float]]) -> csr_matrix | None:
        if not rows:
            return None
        data, indices, pointers = [], [], [0]
        for cols, sign in rows:
            data.extend([sign] * len(cols))
            indices.extend(cols)
            pointers.append(len(indices))
        return csr_matrix((np.array(data, dtype=float), np.array(indices), np.array(pointers)), shape=(len(rows), n))

    a_eq = matrix([(cols, 1.0) for cols in eq_rows])
    a_ub = matrix(ub_rows)
    b_eq = np.array(eq_b, dtype=float) if eq_rows else None
    b_ub = np.array(ub_b, dtype=float) if ub_rows else None
    objectives = np.zeros((len(targets), n))
    for row, i in enumerate(targets):
        objectives[row, cell_columns[i]] = 1.0
        objectives[row, negative[i]] = -1.0
    # Every solution is a point the reader cannot rule out: the value of each target there lies
    # within that target's interval. A target whose values seen so far are already far enough apart
    # is protected without solving its own two programs (it is then reported with those values,
    # inner bounds of its interval); every other target is solved exactly, so the audit decides as
    # if all were solved.
    seen_low = np.full(len(targets), np.inf)
    seen_high = np.full(len(targets), -np.inf)
    result = []
    for row, i in enumerate(targets):
        correction = cells[i].status == Status.CORRECTION
        if protection.wide(float(seen_low[row]), float(seen_high[row]), correction):
            result.append(Interval(i, float(seen_low[row]), float(seen_high[row]), exact=False))
            continue
        objective = objectives[row]
        bounds, blockers = [], set()
        for sign in (1.0, -1.0):
            solution = linprog(sign * objective, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                               bounds=(0, None), method="highs")
            if solution.status == 2:
                raise AuditInconsistent("the published numbers contradict each other")
            if solution.status == 3:
                bounds.append(-sign * float("inf"))
                continue
            if solution.status != 0:
                raise AuditInconsistent(f"solver: {solution.message}")
            value = sign * solution.fun
            bounds.append(value)
            values = objectives @ solution.x
            np.minimum(seen_low, values, out=seen_low)
            np.maximum(seen_high, values, out=seen_high)
            narrow = correction or (value > 1 + EPSILON if sign > 0 else value < threshold - 1 - EPSILON)
            if narrow:
                # The constraints with a non-zero dual value are the published numbers that
                # hold this side in: the cells that secondary suppression should loosen.
                if a_eq is not None:
                    blockers.update(eq_owner[k] for k, dual in enumerate(solution.eqlin.marginals)
                                    if abs(dual) > EPSILON)
                if a_ub is not None:
                    blockers.update(ub_owner[k] for k, dual in enumerate(solution.ineqlin.marginals)
                                    if abs(dual) > EPSILON)
        blockers.discard(i)
        result.append(Interval(i, bounds[0], bounds[1], frozenset(blockers)))
    return result


def failing(cells: Sequence[AuditCell], protection: Protection,
            only: Iterable[int] | None = None, solved: Solved | None = None) -> list[Interval]:
    return [iv for iv in intervals(cells, protection, only, solved)
            if not (protection.holds_correction if cells[iv.cell].status == Status.CORRECTION
                    else protection.holds)(iv.low, iv.high)]


@dataclass
class Candidate:
    """A cell of the release being prepared, as secondary suppression sees it."""

    value: int
    table: Hashable
    row: Hashable
    column: Hashable
    margin: bool = False
    structural_zero: bool = False


@dataclass
class Suppression:
    statuses: list[Status]
    rounds: int = 0
    secondary: list[int] = field(default_factory=list)


def suppress(cells: list[AuditCell], candidates: dict[int, Candidate], protection: Protection,
             max_rounds: int = 60, reuse: bool = True) -> Suppression:
    """Hide more cells of the release being prepared (those in ``candidates``; the other cells are
    earlier releases, fixed) until every primary cell keeps its interval.

    Greedy: for every failing primary cell, hide the smallest visible cell in the same row or
    column of the same table (an inner cell before a margin; a 0 is the cheapest, unless it is a
    structural zero), else the smallest visible cell of this release that shares atoms with it
    (the same people counted in another table or margin). Then audit again (``reuse``: only the
    components in which something was hidden; False solves everything again, for comparison)."""
    statuses = [cell.status for cell in cells]
    work = [AuditCell(cell.atoms, cell.status, cell.value, cell.tag, cell.sensitive, cell.minus) for cell in cells]
    result = Suppression(statuses)
    solved = Solved() if reuse else None
    for round_number in range(max_rounds):
        bad = failing(work, protection, solved=solved)
        result.rounds = round_number + 1
        if not bad:
            result.statuses = [cell.status for cell in work]
            return result
        changed: set[int] = set()
        for interval in bad:
            if interval.blockers & changed or interval.cell in changed:
                continue    # loosened already in this round: audit again before adding more
            pick = _pick(work, candidates, interval)
            if pick is None:
                raise PublicationRefused(f"cell {work[interval.cell].tag!r} cannot be protected")
            work[pick].status = Status.SECONDARY
            work[pick].value = None
            changed.add(pick)
            result.secondary.append(pick)
    raise PublicationRefused("no protecting pattern found within the rounds allowed")


def _pick(work: list[AuditCell], candidates: dict[int, Candidate], interval: Interval) -> int | None:
    """The cell to loosen for one failing primary cell: first a published bound of this release
    that holds the interval in (a shown number to hide, or a "<threshold" to mark "×", which tells
    the reader nothing about its size); else the smallest visible cell in its row or column; else
    any visible cell of this release that counts some of the same people."""
    target = interval.cell
    open_cells = [i for i in interval.blockers if i in candidates and work[i].status != Status.SECONDARY
                  and not candidates[i].structural_zero]
    if open_cells:
        return min(open_cells, key=lambda i: (work[i].status == Status.SHOWN, candidates[i].value,
                                              candidates[i].margin, i))
    visible = [i for i, c in candidates.items() if work[i].status == Status.SHOWN and not c.structural_zero]
    if target in candidates:
        own = candidates[target]
        near = [i for i in visible if candidates[i].table == own.table
                and (candidates[i].row == own.row or candidates[i].column == own.column)]
        if near:
            return min(near, key=lambda i: (candidates[i].value, candidates[i].margin, i))
    atoms = work[target].atoms
    overlapping = [i for i in visible if not work[i].atoms.isdisjoint(atoms)]
    if overlapping:
        return min(overlapping, key=lambda i: (candidates[i].value, candidates[i].margin, i))
    return None
