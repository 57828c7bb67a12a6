"""The Model contract and the parameter spec.

A model is a small class bound to one data set. It declares its parameters (`Param`: name,
shape, constraint, LaTeX label) and implements, for θ a dict ``{name: ndarray}``:

    loglik(θ)                         log p(X | θ)
    posterior(θ)                      q*(Z) = p(Z | X, θ), in the model's own form of q
    expected_complete_loglik(θ, q)    E_q[log p(X, Z | θ)]
    entropy(q)                        H(q) = −E_q[log q(Z)]
    m_step(q, θ, frozen)              argmax over the free parameters of E_q[log p(X, Z | θ)]
    init_theta(rng), simulate(θ, n, rng), initial_q(θ), random_q(rng)

Everything else (F, KL, E/M steps, sessions, landscapes, checks) is built on that contract and
works for any model, built-in or custom. A θ is validated against the spec (`validate_theta`)
before a model ever sees it: it becomes a `Theta`, a dict that refuses changes, of read-only
arrays (states are immutable), whose `key` is its value (the models' caches are keyed by it).

Scalar coordinates of θ are named like ``theta``, ``means[1]`` or ``covariances[0,1,1]``; the
landscape and the app address θ through them (`coordinates`, `get_coordinate`,
`set_coordinate`).
"""
from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import itertools
import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .constraints import Constraint, get_constraint
from .errors import ExplorerError, ModelValueError

MAX_MAGNITUDE = 1e100   # no θ entry (and no data value) is larger: squares and sums stay finite


@dataclass(frozen=True)
class Param:
    """One named parameter block of θ.

    constraint: a name from constraints.CONSTRAINTS ("real": any finite value, "positive": > 0,
    "unit": in [0, 1], "simplex": entries ≥ 0 summing to 1 along the last axis, "covariance": a
    stack of symmetric positive-definite matrices in the last two axes, "ordered": increasing
    along the last axis), or a Constraint object; it is stored as the object.
    """

    name: str
    shape: tuple[int, ...]
    constraint: Constraint
    label: str
    frozen_by_default: bool = False

    def __post_init__(self):
        object.__setattr__(self, "constraint", get_constraint(self.constraint))
        shape = (self.shape,) if isinstance(self.shape, (int, np.integer)) else self.shape
        object.__setattr__(self, "shape", tuple(int(n) for n in shape))     # Param("w", 2, ...) means (2,)


@dataclass(frozen=True)
class Option:
    """A model option such as the number of components K."""

    name: str
    default: int
    minimum: int
    maximum: int
    help: str

    def parse(self, value) -> int:
        try:
            number = int(str(value))
        except ValueError:
            raise ExplorerError(f"option {self.name} must be an integer, got {value!r}") from None
        if not self.minimum <= number <= self.maximum:
            raise ExplorerError(
                f"option {self.name} must be between {self.minimum} and {self.maximum}, got {number}")
        return number


def required(method):
    """Marks a method of the contract that a model must write (the base's version only raises)."""
    method.required = True
    return method


def missing_methods(model) -> list[str]:
    """The required methods (`@required`) a model class or instance does not write: those whose
    definition is still the base's placeholder. (Methods given on the instance count.)"""
    cls = model if isinstance(model, type) else type(model)
    names = dict.fromkeys(name for klass in reversed(cls.__mro__) for name, value in vars(klass).items()
                          if getattr(value, "required", False))
    return [name for name in names if getattr(inspect.getattr_static(model, name, None), "required", False)]


def contract_text(cls) -> str:
    """What a model built on `cls`'s explorer base class writes, and what it may write."""
    base = next((k for k in cls.__mro__ if k.__module__.startswith("explorer.core")), Model)
    lines = [f"A {base.__name__} writes:"]
    lines += [f"  {name}({_arguments(getattr(base, name))}): {_first_sentence(getattr(base, name))}"
              for name in missing_methods(base)]
    lines.append("and may write:")
    lines += [f"  {name}: {what}" for name, what in base.OPTIONAL.items()]
    return "\n".join(lines)


def _arguments(method) -> str:
    names = [p.name for p in inspect.signature(method).parameters.values() if p.name != "self"]
    return ", ".join(names).replace("theta", "θ")


def _first_sentence(method) -> str:
    text = " ".join((method.__doc__ or "").split())
    return text.split(". ")[0].rstrip(".")


def refuse_incomplete(model) -> None:
    """ExplorerError listing what to write, if `model` (a class or instance) misses a required method."""
    missing = missing_methods(model)
    if missing:
        cls = model if isinstance(model, type) else type(model)
        raise ExplorerError(f"{cls.__name__} does not write {', '.join(missing)}, which the explorer needs.\n"
                            f"{contract_text(cls)}")


class Model:
    """Base class of every model. Subclasses set the class attributes and the methods below."""

    name: ClassVar[str] = "model"
    title: ClassVar[str] = "A latent-variable model"
    option_specs: ClassVar[tuple[Option, ...]] = ()
    datasets: ClassVar[dict[str, str]] = {}     # name -> one-line description
    default_dataset: ClassVar[str | None] = None
    latent_description: ClassVar[str] = "Z"
    # Parameters whose single entries may be frozen (e.g. "means[1]"), for models whose m_step
    # handles such keys in `frozen`; other parameters are frozen whole.
    entry_freezing: ClassVar[tuple[str, ...]] = ()
    # The kind of data picture the app draws, as registered in explorer/views/registry.py (the
    # generic kinds in views/data.py, a model's own in views/pictures/, or "sketch": the model
    # draws it with `sketch()` and `sketch_data(θ, q)`, see core/sketch.py); None: from the data.
    data_view: ClassVar[str | None] = None
    # Whether data files may have empty cells (read as NaN, a missing value the model fills in).
    accepts_missing: ClassVar[bool] = False
    # Whether the model takes its data in chunks (data past memory, `core.chunked`): a latent-class
    # model with sufficient statistics and `prepare_points`; the CLI's `chunked` offers those.
    takes_chunks: ClassVar[bool] = False

    # What a model may write beyond the required methods (`@required`), said when one is missing.
    OPTIONAL: ClassVar[dict[str, str]] = {
        "simulate(θ, n, rng)": "data drawn from the model: the checks run on them, and the model gets "
                               "synthetic data (synthetic={...}, --synthetic N) without a data file",
        "warnings(θ)": "messages about θ a user must see (a variance held at its floor)",
        "suff_stats(q) and ecll_from_stats(θ, stats)": "E_q log p from sufficient statistics (faster landscapes)",
    }

    def __init__(self, data, **options):
        refuse_incomplete(self)
        self.options = self.parse_options(options)
        self.data = self.validate_data(data)

    # ----- options and data -------------------------------------------------------------------
    @classmethod
    def parse_options(cls, options: dict) -> dict:
        known = {o.name: o for o in cls.option_specs}
        unknown = sorted(set(options) - set(known))
        if unknown:
            allowed = ", ".join(known) or "none"
            raise ExplorerError(f"model {cls.name} has no option {unknown[0]!r} (options: {allowed})")
        return {name: o.parse(options.get(name, o.default)) for name, o in known.items()}

    @required
    def validate_data(self, data):
        """Return the data as the model stores it, or raise ExplorerError naming the problem."""
        raise NotImplementedError

    @classmethod
    def load_dataset(cls, name: str, **options):
        """The built-in data set `name` in the form `validate_data` accepts."""
        raise ExplorerError(f"model {cls.name} has no data set {name!r}")

    @classmethod
    def data_from_table(cls, header: list[str], values: np.ndarray, **options):
        """Turn a parsed CSV (header, float matrix) into data; subclasses check the columns."""
        return values

    @classmethod
    def synthetic(cls, n: int, seed: int, separation: float = 1.0, **options):
        """Data simulated from the model's reference θ, with a knob for how separated it is.
        A model that only writes `simulate` gets n points simulated at a θ drawn from its
        parameters' constraints (seeded; `separation` does not apply), on a model with no data."""
        if cls.simulate is Model.simulate:
            raise ExplorerError(f"model {cls.name} has no synthetic data (it has no simulate())")
        rng = np.random.default_rng(seed)
        blank = cls.__new__(cls)            # params() and simulate() of a model before it has data
        blank.options, blank.data = cls.parse_options(options), None
        try:
            params = blank.params()
            theta = validate_theta(params, {p.name: p.constraint.random(p.shape, rng) for p in params})
            return blank.simulate(theta, n, rng)
        except ExplorerError:
            raise
        except Exception as exc:  # noqa: BLE001 - the user's code needs its data: say what to give
            raise ExplorerError(f"model {cls.name} cannot simulate data before it has some ({type(exc).__name__}: "
                                f"{exc}): give a data file") from exc

    # ----- the parameter spec -------------------------------------------------------------------
    @required
    def params(self) -> list[Param]:
        """the parameter spec: a list of Param(name, shape, constraint, latex_label)"""
        raise NotImplementedError

    def spec(self) -> dict[str, Param]:
        return {p.name: p for p in self.params()}

    def default_frozen(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params() if p.frozen_by_default)

    # ----- the contract -----------------------------------------------------------------------
    @required
    def loglik(self, theta) -> float:
        """log p(X | θ)"""
        raise NotImplementedError

    @required
    def posterior(self, theta):
        """q = p(Z | X, θ), in the model's own form of q"""
        raise NotImplementedError

    @required
    def expected_complete_loglik(self, theta, q) -> float:
        """E_q[log p(X, Z | θ)]"""
        raise NotImplementedError

    @required
    def entropy(self, q) -> float:
        """H(q) = −E_q[log q(Z)]"""
        raise NotImplementedError

    @required
    def m_step(self, q, theta, frozen=frozenset()) -> dict:
        """argmax of E_q[log p(X, Z | θ)] over the parameters not in `frozen`, as a dict"""
        raise NotImplementedError

    @required
    def init_theta(self, rng: np.random.Generator) -> dict:
        """a random starting θ (a dict of arrays)"""
        raise NotImplementedError

    def simulate(self, theta, n: int, rng: np.random.Generator):
        raise NotImplementedError

    @required
    def initial_q(self, theta):
        """The q a session starts from, before any E step (not the posterior, so the first
        E step has a gap to close)."""
        raise NotImplementedError

    @required
    def random_q(self, rng: np.random.Generator):
        """A random valid q of the posterior's form (for tests and checks)."""
        raise NotImplementedError

    def warnings(self, theta) -> list[str]:
        """Messages about θ a user must see, e.g. a variance held at its floor."""
        return []

    def collapsed(self, theta) -> str:
        """Why θ has left the space the model's M step keeps to, if it has ("" if not): e.g. a
        mixture component whose variance a gradient step took below the floor, on its way to
        one point where log p → +∞. A session stops with this message rather than take it."""
        return ""

    def slice_range(self, theta, key: str) -> tuple[float, float]:
        """The interval of coordinate `key` that a slice or landscape plot spans."""
        name, index = parse_key(key)
        get_coordinate(theta, key)
        return self.spec()[name].constraint.slice_range(theta[name], index)

    # Optional fast path for landscapes: F(θ, q) for many θ and one q from sufficient statistics.
    def suff_stats(self, q, rows=slice(None)):
        """Statistics of q from which E_q log p(X, Z | θ) follows for any θ; additive over the
        data points for models that support incremental EM (`rows`: those points only)."""
        return q

    def ecll_from_stats(self, theta, stats) -> float:
        return self.expected_complete_loglik(theta, stats)

    @property
    def has_stats(self) -> bool:
        """Does the model compute E_q log p from sufficient statistics (so an M step reads no data)?"""
        return type(self).ecll_from_stats is not Model.ecll_from_stats

    def ecll_grid(self, thetas: list, stats: list) -> np.ndarray:
        """M[s][t] = E_q log p(X, Z | θ_t) for the q whose statistics are stats[s]: what a
        landscape needs for every pair. Models may vectorise it; this loops."""
        return np.array([[self.ecll_from_stats(t, st) for t in thetas] for st in stats], dtype=float)

    def summary_at(self, theta, q) -> tuple[float, object, float]:
        """(log p(X | θ), the statistics of q, H(q)): what a landscape's picture needs at θ."""
        return self.loglik(theta), self.stats(q), self.entropy(q)

    def grid_passes(self, thetas: list) -> list[tuple[float, object, float]]:
        """`summary_at(θ, posterior at θ)` for each θ of a landscape's grid: what the exact
        family's picture needs of each. Models may batch it; this takes one pass per θ."""
        return [self.summary_at(theta, self.posterior(theta)) for theta in thetas]

    @contextlib.contextmanager
    def keeping_caches(self):
        """Work at other θ and q (a landscape's grid) without forgetting what is remembered of
        the current ones (the caches are one entry each: the grid would evict the state's)."""
        kept = {k: v for k, v in self.__dict__.items() if k.endswith("_cache")}
        try:
            yield
        finally:
            self.__dict__.update(kept)

    def remember_stats(self, q, stats) -> None:
        """Tell the model the statistics of q (kept up to date by incremental EM)."""
        self._stats_cache = (q, stats)

    def stats(self, q):
        """suff_stats(q), computed once per q. A q whose arrays are read-only (every q a state
        holds) cannot change, so its identity is the key; a q that can still change is not
        remembered (a key by value would cost a pass over q)."""
        cached = getattr(self, "_stats_cache", None)
        if cached is not None and cached[0] is q:
            return cached[1]
        stats = self.suff_stats(q)
        if is_frozen(q):
            self._stats_cache = (q, stats)
        return stats

    # ----- helpers built on the contract ---------------------------------------------------------
    def with_data(self, data) -> "Model":
        """The same model (options, and anything set on the instance) on other data."""
        twin = copy.copy(self)
        twin.__dict__ = {k: v for k, v in self.__dict__.items() if not k.endswith("_cache")}
        twin.data = twin.validate_data(data)
        return twin

    def theta(self, values: dict) -> dict:
        """θ from a mapping of complete values, validated and made read-only."""
        return validate_theta(self.params(), values)

    def start_theta(self, seed: int = 0, overrides: dict | None = None) -> dict:
        """A seeded initial θ, with any subset of keys given explicitly in `overrides`."""
        spec = self.spec()
        overrides = dict(overrides or {})
        for key in overrides:
            if key not in spec:
                raise ExplorerError(f"model {self.name} has no parameter {key!r} "
                                    f"(parameters: {', '.join(spec)})")
        values = self.init_theta(np.random.default_rng(seed))
        try:
            start = self.theta(values)
        except ExplorerError as exc:     # the model's own start, not the user's input
            raise ModelValueError("init_theta(rng)", f"returned a θ that is not valid ({exc})") from None
        except (TypeError, ValueError) as exc:
            raise ModelValueError("init_theta(rng)", f"returned {type(values).__name__}, not a dict of numbers "
                                  f"({exc})") from None
        return self.theta({**start, **overrides}) if overrides else start

    def check_frozen(self, frozen) -> frozenset:
        """The frozen set, checked: whole parameter names, or entries like means[1] of the
        parameters in `entry_freezing`."""
        spec = self.spec()
        for item in frozen:
            name, index = parse_key(item)
            if name not in spec:
                raise ExplorerError(f"cannot freeze {item!r}: model {self.name} has no such parameter "
                                    f"(parameters: {', '.join(spec)})")
            if index and name not in self.entry_freezing:
                raise ExplorerError(f"cannot freeze {item!r}: model {self.name} freezes {name} as a whole "
                                    f"(entries can be frozen for: {', '.join(self.entry_freezing) or 'none'})")
            if index and format_key(name, index) not in coordinates([spec[name]]):
                raise ExplorerError(f"cannot freeze {item!r}: no such entry of {name}")
        return frozenset(frozen)

    def maximize(self, q, theta, frozen=frozenset()) -> dict:
        """The M step, validated, with the frozen parameters checked to be unchanged. A θ that
        is not finite or breaks a constraint is the model's code at fault (ModelValueError,
        naming the θ the M step was called with), not the user's input."""
        raw = self.m_step(q, theta, frozenset(frozen))
        try:
            for name, value in dict(raw).items():
                array = np.asarray(value, dtype=float)
                if not np.all(np.isfinite(array)):
                    raise ModelValueError("m_step(q, θ, frozen)", f"returned {name} = {array.tolist()}, which is not "
                                          f"finite, from q = the E step's at θ", theta)
            new = self.theta(raw)
        except ExplorerError as exc:
            raise ModelValueError("m_step(q, θ, frozen)", f"returned a θ that is not valid ({exc})", theta) from None
        except (TypeError, ValueError) as exc:
            raise ModelValueError("m_step(q, θ, frozen)", f"returned {type(raw).__name__}, not a dict of numbers "
                                  f"({exc})", theta) from None
        for item in frozen:
            name, index = parse_key(item)
            if not np.array_equal(np.asarray(new[name])[index], np.asarray(theta[name])[index]):
                raise RuntimeError(f"{self.name}.m_step changed the frozen parameter {item!r}")
        return new


def require_finite(value: float, method: str, theta, minus_inf_ok: bool = False, meaning: str = "") -> float:
    """`value`, or ModelValueError naming `method` and θ when it is NaN or +∞ (or −∞, unless
    `minus_inf_ok`: log p = −∞ where θ makes the data impossible)."""
    value = float(value)
    if np.isnan(value) or value == np.inf or (value == -np.inf and not minus_inf_ok):
        raise ModelValueError(method, f"returned {value}{meaning}", theta)
    return value


def q_arrays(q) -> list[np.ndarray]:
    """The arrays a q is made of: the q itself, or the array attributes of an object such as
    GaussianQ."""
    if isinstance(q, np.ndarray):
        return [q]
    return [v for v in getattr(q, "__dict__", {}).values() if isinstance(v, np.ndarray)]


def is_frozen(value) -> bool:
    """Can no array of this q (an array, or an object of arrays) change any more? Read-only,
    and so is every array it is a view of."""
    for array in q_arrays(value):
        while isinstance(array, np.ndarray):
            if array.flags.writeable:
                return False
            array = array.base
    return True


def add_stats(a, b, sign: float = 1.0):
    """a + sign·b for sufficient statistics (dicts of arrays, or arrays)."""
    if isinstance(a, dict):
        return {k: a[k] + sign * b[k] for k in a}
    return a + sign * b


# ----- θ validation ---------------------------------------------------------------------------
class Theta(dict):
    """A validated θ: a dict of read-only arrays that refuses to change (a state's θ is
    immutable; make another with ``{**theta, name: value}``). Its `key` is its value, bytes and
    all, so that a model's caches are keyed by what θ is, not by which object holds it (read
    when first asked for: most θ a picture makes, its grid's and its searches', are never keys)."""

    def __init__(self, values: dict):
        super().__init__(values)
        self._key = None

    @property
    def key(self) -> tuple:
        if self._key is None:
            self._key = _key_of(self)
        return self._key

    def _refuse(self, *args, **kwargs):
        raise TypeError("θ is immutable once validated: make a new one, e.g. {**theta, name: value}")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return Theta, (dict(self),)


def theta_key(theta) -> tuple:
    """θ by value, for cache keys: (name, shape, bytes) of each block. A validated θ keeps its
    own; any other mapping (a θ a caller built and may change) is read now."""
    key = getattr(theta, "key", None)
    return key if key is not None else _key_of(theta)


def _key_of(theta) -> tuple:
    blocks = []
    for name in sorted(theta):
        array = np.asarray(theta[name], dtype=float)
        blocks.append((name, array.shape, array.tobytes()))
    return tuple(blocks)


def validate_theta(params: list[Param], values: dict) -> dict:
    names = [p.name for p in params]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ExplorerError(f"unknown parameter {unknown[0]!r} (parameters: {', '.join(names)})")
    theta = {}
    for p in params:
        if p.name not in values:
            raise ExplorerError(f"parameter {p.name!r} is missing")
        try:
            array = np.array(values[p.name], dtype=float)
        except (TypeError, ValueError):
            raise ExplorerError(f"parameter {p.name!r} must be numbers, got {values[p.name]!r}") from None
        if array.shape != tuple(p.shape):
            raise ExplorerError(f"parameter {p.name!r} must have shape {list(p.shape)}, "
                                f"got {list(array.shape)}")
        if not np.all(np.isfinite(array)):
            raise ExplorerError(f"parameter {p.name!r} must be finite, got {array.tolist()}")
        if np.any(np.abs(array) > MAX_MAGNITUDE):
            raise ExplorerError(f"parameter {p.name!r} has an entry beyond ±{MAX_MAGNITUDE:g}, got {array.tolist()}")
        p.constraint.check(p.name, array)
        array.setflags(write=False)
        theta[p.name] = array
    return Theta(theta)


def parse_theta_json(text: str, source: str = "initial θ") -> dict:
    """A typed θ (any subset of keys) from JSON text; ExplorerError naming `source` otherwise.
    The app's θ⁰ box and the CLI's --theta0 both read θ with it."""
    import json
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExplorerError(f"{source} is not valid JSON ({exc.msg} at character {exc.pos}): {text[:60]!r}") from None
    except RecursionError:
        raise ExplorerError(f"{source} is not valid JSON (nested too deeply)") from None
    if not isinstance(value, dict):
        raise ExplorerError(f'{source} must be a JSON object like {{"theta": 0.5}}, got {text[:60]!r}')
    for key, entry in value.items():
        bad = _not_a_number(entry)
        if bad is not None:
            raise ExplorerError(f"{source}: {key!r} must be a number or a list of numbers, got {bad}")
    return value


def _not_a_number(entry, depth: int = 0):
    """The first leaf of a JSON value that is not a finite number (None if all are); booleans,
    strings, null, NaN and ±Infinity are not."""
    if isinstance(entry, list):
        if depth > 4:
            return "lists nested too deeply"
        for item in entry:
            bad = _not_a_number(item, depth + 1)
            if bad is not None:
                return bad
        return None
    if isinstance(entry, bool) or not isinstance(entry, (int, float)):
        return repr(entry)
    if isinstance(entry, float) and not np.isfinite(entry):
        return repr(entry)
    return None


def theta_to_json(theta: dict) -> dict:
    return {k: (float(v) if np.ndim(v) == 0 else np.asarray(v).tolist()) for k, v in theta.items()}


# ----- scalar coordinates -----------------------------------------------------------------------
_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[([0-9, ]+)\])?$")


@functools.lru_cache(maxsize=4096)        # the same few keys are read at every step and picture
def parse_key(key: str) -> tuple[str, tuple[int, ...]]:
    match = _KEY.match(key.strip())
    if not match:
        raise ExplorerError(f"cannot read the coordinate {key!r}; write it like means[1]")
    index = tuple(int(i) for i in match.group(2).split(",")) if match.group(2) else ()
    return match.group(1), index


def format_key(name: str, index: tuple[int, ...]) -> str:
    return name if not index else f"{name}[{','.join(map(str, index))}]"


def coordinates(params: list[Param]) -> list[str]:
    """Every scalar entry that can be moved on its own (upper triangles of covariances)."""
    keys = []
    for p in params:
        for index in itertools.product(*(range(n) for n in p.shape)):
            if not p.constraint.is_coordinate(index):
                continue
            keys.append(format_key(p.name, index))
    return keys


def first_coordinate(model, frozen=frozenset()) -> str:
    """The coordinate drawn first (the app, the standalone page, the figures): a mean if there
    is a free one, else the first free coordinate, else the first."""
    keys = coordinates(model.params())
    free = [k for k in keys if k.split("[")[0] not in frozen and k not in frozen]
    return next((k for k in free if k.startswith("means")), free[0] if free else keys[0])


def get_coordinate(theta: dict, key: str) -> float:
    name, index = parse_key(key)
    if name not in theta:
        raise ExplorerError(f"unknown parameter {name!r} in coordinate {key!r}")
    try:
        return float(theta[name][index])
    except (IndexError, TypeError, ValueError):
        raise ExplorerError(f"coordinate {key!r} is out of range for shape "
                            f"{list(np.shape(theta[name]))}") from None


def set_coordinate(params: list[Param], theta: dict, key: str, value: float, check: bool = True) -> dict:
    """θ with one scalar coordinate moved, keeping the constraint (Constraint.set_entry: a
    simplex entry w_j = v rescales the others to sum to 1 − v; a covariance entry Σ_ab = v also
    sets Σ_ba). The result is validated unless `check` is False (a point between two checked
    ones: the constraints' sets are convex along a coordinate)."""
    return coordinate_mover(params, theta, key)(value, check)


def coordinate_mover(params: list[Param], theta: dict, key: str):
    """`move(value, check=True)`, which is `set_coordinate(params, theta, key, value, check)`
    with the key read and its constraint found once: a picture moves one coordinate hundreds
    of times."""
    name, index = parse_key(key)
    get_coordinate(theta, key)
    constraint = {p.name: p for p in params}[name].constraint

    def move(value: float, check: bool = True) -> dict:
        array = constraint.set_entry(theta[name], index, value)
        if not check:
            array = np.array(array, dtype=float)
            array.setflags(write=False)
            return Theta({**theta, name: array})
        return validate_theta(params, {**theta, name: array})
    return move


# ----- random feasible moves (tests and checks) --------------------------------------------------
def perturb(params: list[Param], theta: dict, rng: np.random.Generator, scale: float,
            frozen=frozenset()) -> dict:
    """A random feasible θ near `theta`: each free block moved by its constraint's `perturb`
    (noise of size `scale` in an unconstrained parametrisation)."""
    new = {p.name: np.array(theta[p.name], dtype=float) if p.name in frozen else
           p.constraint.perturb(np.array(theta[p.name], dtype=float), rng, scale) for p in params}
    return validate_theta(params, new)
