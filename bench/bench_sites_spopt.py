"""Benchmark: our exact maximal-covering model against spopt on spopt's own test instances.

The instances are those of PySAL spopt's MCLP tests (``spopt/tests/test_locate/
test_mclp.py`` and the ``network_instance`` fixture of ``spopt/tests/conftest.py``),
rebuilt here from their description, not from their code:

- ``lattice`` (spopt's ``TestSyntheticLocate``): a 10 x 10 square street lattice with a
  street on every unit line (9 interior lines each way plus the exterior, i.e. x = 0..10
  and y = 0..10); clients and candidate facilities drawn uniformly in the 0.2-wide band
  around the streets and snapped to the nearest street; cost = shortest distance along
  the streets; client weights = random integers 1..11; spopt's case is 100 clients,
  5 facilities, service radius 7, p = 4.  Our own random draws (numpy default_rng, seeds
  5 for clients and 6 for facilities like spopt's fixture, but a different generator),
  so the optimum values are ours, not spopt's pickled ones.  The same construction is
  then scaled up (more clients and facilities, radii 2-7, larger p): the "hardest
  lattice cases", where many candidates cover almost the same clients.
- ``sf`` (spopt's ``TestRealWorldLocate``): 205 San Francisco census tracts weighted
  by their 2000 population, 16 candidate stores, network distances in metres, service
  radius 5000 m, p = 4 (and 2, 6, 8).  Read from the data files shipped inside the
  installed spopt package (``spopt/tests/test_locate/data``); skipped when absent.

For every instance: our ``solve_max_coverage(method="exact")`` (HiGHS through highspy,
model built from the sparse coverage), spopt ``MCLP.from_cost_matrix`` solved with
pulp's CBC and with pulp's HiGHS (``pulp.HiGHS``, highspy).  Same optimum (covered
weight within the gap tolerance)?  Time ratios spopt / ours, each time the best of
REPEATS runs (the machine is shared).  Times include building the model.

Needs the bench extra: ``.venv/bin/pip install -e '.[bench]'`` (spopt, pulp; highspy is
already a dependency).  Skips with a message (exit 0) when spopt or pulp is missing.

Run: .venv/bin/python bench/bench_sites_spopt.py [--quick]
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from tierslieux.analysis.optimise import solve_max_coverage

MIP_GAP = 1e-4
REPEATS = 1 if "--quick" in sys.argv else 3
SIZE = 10  # lattice from 0 to SIZE, a street on every unit line
BAND = 0.2  # half-width of the band around the streets where points are drawn


@dataclass(frozen=True)
class Instance:
    """One MCLP instance: clients x facilities cost matrix, weights, radius, p."""

    name: str
    cost: np.ndarray
    weights: np.ndarray
    radius: float
    p: int


# --------------------------------------------------------------------------------------
# lattice instances
# --------------------------------------------------------------------------------------


def _draw_on_streets(n: int, seed: int) -> np.ndarray:
    """``n`` points drawn uniformly within BAND of the lattice streets, snapped to them.

    Returns an (n, 3) array: street orientation (0 = vertical x = const, 1 = horizontal),
    coordinate of the street line, position along it.
    """
    rng = np.random.default_rng(seed)
    kept: list[np.ndarray] = []
    count = 0
    while count < n:
        xy = rng.uniform(-BAND, SIZE + BAND, size=(4 * n, 2))
        lines = np.clip(np.rint(xy), 0, SIZE)
        along = np.clip(xy, 0, SIZE)
        # distance to the nearest vertical street (x = line) and horizontal one
        dv = np.hypot(xy[:, 0] - lines[:, 0], xy[:, 1] - along[:, 1])
        dh = np.hypot(xy[:, 1] - lines[:, 1], xy[:, 0] - along[:, 0])
        inside = np.minimum(dv, dh) <= BAND
        vertical = dv <= dh
        snapped = np.where(
            vertical[:, None],
            np.column_stack([np.zeros(len(xy)), lines[:, 0], along[:, 1]]),
            np.column_stack([np.ones(len(xy)), lines[:, 1], along[:, 0]]),
        )[inside]
        kept.append(snapped)
        count += len(snapped)
    return np.concatenate(kept)[:n]


def _ends(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The two lattice nodes bounding each point's street segment, and the distances."""
    orient, line, along = points[:, 0], points[:, 1], points[:, 2]
    low = np.minimum(np.floor(along), SIZE - 1)
    high = low + 1
    node_low = np.where(
        orient[:, None] == 0,
        np.column_stack([line, low]),
        np.column_stack([low, line]),
    )
    node_high = np.where(
        orient[:, None] == 0,
        np.column_stack([line, high]),
        np.column_stack([high, line]),
    )
    return node_low, along - low, node_high, high - along


def lattice_costs(clients: np.ndarray, facilities: np.ndarray) -> np.ndarray:
    """Shortest distance along the streets, clients x facilities.

    Between lattice nodes the shortest path on a full unit grid is the Manhattan
    distance; a point reaches the network through one of the two ends of its segment,
    or directly when both points lie on the same segment.
    """
    c_ends = _ends(clients)
    f_ends = _ends(facilities)
    best = np.full((len(clients), len(facilities)), np.inf)
    for cn, cd in ((c_ends[0], c_ends[1]), (c_ends[2], c_ends[3])):
        for fn, fd in ((f_ends[0], f_ends[1]), (f_ends[2], f_ends[3])):
            manhattan = np.abs(cn[:, None, :] - fn[None, :, :]).sum(axis=2)
            best = np.minimum(best, cd[:, None] + manhattan + fd[None, :])
    same_segment = (
        (clients[:, None, 0] == facilities[None, :, 0])
        & (clients[:, None, 1] == facilities[None, :, 1])
        & (c_ends[0][:, None, :] == f_ends[0][None, :, :]).all(axis=2)
    )
    direct = np.abs(clients[:, None, 2] - facilities[None, :, 2])
    return np.where(same_segment, np.minimum(best, direct), best)


def lattice_instance(n_clients: int, n_facilities: int, radius: float, p: int) -> Instance:
    """spopt's synthetic lattice construction with the given sizes."""
    clients = _draw_on_streets(n_clients, seed=5)
    facilities = _draw_on_streets(n_facilities, seed=6)
    weights = np.random.default_rng(0).integers(1, 12, n_clients).astype(float)
    name = f"lattice {n_clients}x{n_facilities} r={radius:g} p={p}"
    return Instance(name, lattice_costs(clients, facilities), weights, radius, p)


# --------------------------------------------------------------------------------------
# San Francisco instance (files shipped with spopt)
# --------------------------------------------------------------------------------------


def sf_instances() -> list[Instance]:
    """spopt's real-world MCLP case, p = 2, 4, 6, 8; empty when the files are absent."""
    import pandas as pd  # noqa: PLC0415
    import spopt  # noqa: PLC0415

    data = Path(spopt.__file__).parent / "tests" / "test_locate" / "data"
    distances = data / "SF_network_distance_candidateStore_16_censusTract_205_new.csv"
    demand = data / "SF_demand_205_centroid_uniform_weight.csv"
    if not (distances.exists() and demand.exists()):
        print(f"sf skipped: {data} does not hold spopt's San Francisco test files")
        return []
    pivot = pd.read_csv(distances).pivot_table(
        values="distance", index="DestinationName", columns="name"
    )
    tracts = pd.read_csv(demand).sort_values("NAME")
    pivot = pivot.loc[tracts["NAME"]] if set(tracts["NAME"]) <= set(pivot.index) else pivot
    cost = pivot.to_numpy(dtype=float)
    weights = tracts["POP2000"].to_numpy(dtype=float)
    return [Instance(f"sf 205x16 r=5000 m p={p}", cost, weights, 5000.0, p) for p in (2, 4, 6, 8)]


# --------------------------------------------------------------------------------------
# solvers
# --------------------------------------------------------------------------------------


def covered(inst: Instance, chosen: list[int]) -> float:
    """Weight of the clients within the radius of a chosen facility."""
    if not chosen:
        return 0.0
    return float(inst.weights[(inst.cost[:, chosen] <= inst.radius).any(axis=1)].sum())


def best_time(run: object) -> tuple[list[int], float]:
    """Chosen facilities and the best wall time of REPEATS calls of ``run()``."""
    seconds = np.inf
    chosen: list[int] = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        chosen = run()  # type: ignore[operator]  # bench helper, callables only
        seconds = min(seconds, time.perf_counter() - started)
    return chosen, float(seconds)


def ours(inst: Instance) -> list[int]:
    """Our exact model on the sparse coverage (facilities x clients)."""
    coverage = sparse.csr_matrix((inst.cost <= inst.radius).T)
    result = solve_max_coverage(coverage, inst.weights, inst.p, method="exact", mip_gap=MIP_GAP)
    return [int(j) for j in result.chosen]


def spopt_with(inst: Instance, solver: str) -> list[int]:
    """spopt MCLP from the cost matrix, solved by pulp's CBC or HiGHS."""
    import pulp  # noqa: PLC0415
    from spopt.locate import MCLP  # noqa: PLC0415

    model = MCLP.from_cost_matrix(
        inst.cost, inst.weights, service_radius=inst.radius, p_facilities=inst.p
    )
    backend = (
        pulp.PULP_CBC_CMD(msg=False, gapRel=MIP_GAP)
        if solver == "cbc"
        else pulp.HiGHS(msg=False, gapRel=MIP_GAP)
    )
    model = model.solve(backend)
    return [j for j, var in enumerate(model.fac_vars) if (var.value() or 0) > 0.5]


def main() -> int:
    """Print one line per instance and the ranges of the time ratios."""
    try:
        import pulp  # noqa: F401, PLC0415
        import spopt.locate  # noqa: F401, PLC0415
    except ImportError as error:
        print(f"skipped: spopt/pulp not importable ({error}); pip install -e '.[bench]'")
        return 0
    instances = [lattice_instance(100, 5, 7.0, 4)]  # spopt's own synthetic case
    instances.extend(
        lattice_instance(n_clients, n_facilities, radius, p)
        for n_clients, n_facilities in ((1000, 50), (2000, 100))
        for radius in (2.0, 4.0, 7.0)
        for p in (4, 10, 20)
    )
    instances.extend(sf_instances())
    header = (
        f"{'instance':<32} | {'optimum':>10} | {'ours s':>7} | {'CBC s':>7} {'same':>4} "
        f"{'ratio':>6} | {'HiGHS s':>7} {'same':>4} {'ratio':>6}"
    )
    print(f"repeats per timing: {REPEATS} (best kept); gap tolerance {MIP_GAP:.0e}")
    print(header)
    print("-" * len(header))
    ratios: dict[str, dict[str, list[float]]] = {}
    all_same = True
    for inst in instances:
        chosen, sec_ours = best_time(lambda inst=inst: ours(inst))
        value = covered(inst, chosen)
        cols = []
        family = inst.name.split(" r=")[0]
        for solver in ("cbc", "highs"):
            chosen_sp, sec_sp = best_time(lambda inst=inst, s=solver: spopt_with(inst, s))
            value_sp = covered(inst, chosen_sp)
            same = abs(value_sp - value) <= MIP_GAP * max(value, 1.0)
            all_same &= same
            ratio = sec_sp / sec_ours
            ratios.setdefault(family, {}).setdefault(solver, []).append(ratio)
            cols.append(f"{sec_sp:>7.3f} {'yes' if same else 'NO':>4} {ratio:>5.1f}x")
        print(f"{inst.name:<32} | {value:>10,.0f} | {sec_ours:>7.3f} | {cols[0]} | {cols[1]}")
    print("\nTime ratio spopt / ours (min-max per family):")
    for family, by_solver in ratios.items():
        parts = [f"{s}: {min(r):.1f}-{max(r):.1f}x" for s, r in by_solver.items()]
        print(f"  {family:<20} " + ", ".join(parts))
    print(f"same optimum everywhere: {'yes' if all_same else 'NO'}")
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main())
