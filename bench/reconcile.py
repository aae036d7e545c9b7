"""Reconciliation (issue 17, §6): 100,000 patients against 100,000 prospects, end to end.

`reconcile.apply` runs on a SQLite database already holding the prospects (and their planned follow-ups):
normalising the records, upserting the patients and their phones, blocking through the indexes, judging
the candidate pairs, converting the certain ones (stage, history, follow-ups, audit) and queueing the
uncertain ones. Each run starts from a copy of the same loaded file; the figure is the median of the runs,
with their spread. The records are made in their order, as a reader makes them (see `generate`).

The baseline, measured in the same run: a plain dict join on the same normalised keys (the prospects' keys
read with raw sqlite3 into dicts, the patients' keys precomputed, every candidate pair collected) — what
the blocking alone costs in memory, with no write and no verdict.

The generated set has known answers: which patient is which prospect, and which pairs are traps (a child
on its mother's number, a daughter named after her mother, homonyms, near-homonyms such as Ba / Ka and
Sène / Sané). Precision of the automatic conversions must be 1.0; recall is reported against every true
pair and against the pairs the rules are meant to convert by themselves (the others must be in review).
"""
import gc
import pickle
import random
import shutil
import statistics
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from . import register
from .common import Report, Steps, progress
from .dataset import FIRST_NAMES, bench_app, bulk_insert

TARGET_SECONDS = 3.0
TARGET_RATIO = 5.0
NOW = datetime(2026, 12, 1, 10, 0)

LAST_NAMES = ["Diop", "Ndiaye", "Fall", "Sow", "Diallo", "Gueye", "Faye", "Sarr", "Ba", "Mbaye", "Seck", "Cissé",
              "Thiam", "Niang", "Kane", "Diouf", "Sy", "Touré", "Camara", "Mbengue", "Dieng", "Ndour", "Sène",
              "Wade", "Diagne", "Badji", "Sagna", "Coly", "Mendy", "Gomis", "Diatta", "Tall", "Ndao", "Samb",
              "Sall", "Dione", "Ly", "Diédhiou", "Senghor", "Bassène", "Tendeng", "Manga", "Sambou", "Goudiaby"]
# Spelling variants the rules must send to review, never convert (one family, two spellings).
VARIANTS = {"Ndiaye": "Njaay", "Diop": "Jóob", "Mbaye": "Mbay", "Seck": "Sek", "Diallo": "Jallo",
            "Thiam": "Tiam", "Fall": "Fal"}
TYPOS = {"Mbengue": "Mbingue", "Diagne": "Diagme", "Goudiaby": "Goudiabi", "Tendeng": "Tendang",
         "Senghor": "Senghar", "Camara": "Camora"}
# Different families the rules must keep apart.
NEAR = {"Ba": "Ka", "Sène": "Sané", "Gueye": "Gaye", "Fall": "Faye", "Sow": "Sy", "Diouf": "Diop"}
CHILDREN = ["Awa", "Fatou", "Moussa", "Mamadou", "Adama", "Khady", "Cheikh", "Aïda", "Ibrahima", "Ndèye"]

# true pairs: (kind, share of the matched prospects, meant to be converted by itself)
TRUE_KINDS = [("phone", 0.45, True), ("phone, names swapped", 0.05, True), ("email", 0.10, True),
              ("name + birth date, no contact", 0.05, True), ("name + birth date, email / phone", 0.10, False),
              ("spelling variant", 0.10, False), ("typo", 0.05, False),
              ("phone, birth date mistyped", 0.05, False), ("new phone, name + birth date", 0.05, False)]
TRAP_KINDS = [("child on its mother's number", 0.40), ("daughter named after her mother", 0.10),
              ("homonym, other birth date", 0.25), ("near-homonym", 0.25)]


@dataclass
class Dataset:
    prospects: list[tuple] = field(default_factory=list)    # rows for bulk_insert
    records: list = field(default_factory=list)             # PatientRecord
    truth: dict = field(default_factory=dict)               # external_id -> prospect index (0-based)
    auto: set = field(default_factory=set)                  # external_ids meant to convert by themselves
    kinds: dict = field(default_factory=dict)               # external_id -> kind
    traps: dict = field(default_factory=dict)               # external_id -> prospect index of the trap


def _written(rng, national: str) -> str:
    spaced = f"{national[:2]} {national[2:5]} {national[5:7]} {national[7:]}"
    return rng.choice([spaced, national, f"+221 {spaced}", f"00221{national}", f"221{national}",
                       spaced.replace(" ", "-"), spaced.replace(" ", ".")])


def _dressed(rng, name: str) -> str:
    """The same name as another clerk types it: upper case, without accents, N'Diaye for Ndiaye."""
    from webapp.rules.text import fold

    form = rng.random()
    if form < 0.2:
        return name.upper()
    if form < 0.4:
        return fold(name).title()
    if form < 0.45 and name.startswith("Nd"):
        return "N'D" + name[2:]
    return name


def generate(size: int, seed: int, stage_id: int) -> Dataset:
    from integrations.contract import PatientRecord
    from webapp.rules.matching import name_block_key, surname_initial
    from webapp.rules.text import fold

    rng = random.Random(seed)
    data = Dataset()
    emails = iter(range(10 ** 9))

    def national():
        return f"7{rng.choice('0678')}{rng.randrange(10_000_000):07d}"

    used_phones = set()

    def phone():
        while True:
            number = national()
            if number not in used_phones:
                used_phones.add(number)
                return number

    def email(first, last):
        return f"{fold(first).replace(' ', '.')}.{fold(last).replace(' ', '')}{next(emails)}@gmail.com"

    def birth(young=False):
        if young:
            return date(2019, 1, 1) + timedelta(days=rng.randrange(6 * 365))
        return date(1960, 1, 1) + timedelta(days=rng.randrange(45 * 365))

    def prospect(first, last, national_number, mail, born):
        e164 = f"+221{national_number}" if national_number else None
        data.prospects.append((first, last, e164, national_number or "", True, mail, born, "phone", "", "appointment",
                               "warm", "normal", stage_id, "open", NOW - timedelta(days=rng.randrange(300)),
                               NOW - timedelta(days=rng.randrange(300)), 1, name_block_key(first, last),
                               surname_initial(last), " ".join(fold(x) for x in (first, last, mail or "") if x)))
        return len(data.prospects) - 1

    def patient(first, last, phones=(), mail=None, born=None):
        external_id = f"NEST-{len(data.records) + 1:07d}"
        data.records.append(PatientRecord(external_id, first, last, tuple(phones), mail, born,
                                          rng.choice(["Facebook", "site web", "Bouche-à-oreille", "Événement",
                                                      ""]), NOW.date() - timedelta(days=rng.randrange(60))))
        return external_id

    n_true = int(size * 0.30)
    n_traps = int(size * 0.10)
    kinds = [k for k, share, _ in TRUE_KINDS for _ in range(int(round(share * n_true)))]
    auto = {k for k, _, a in TRUE_KINDS if a}
    for kind in kinds:
        first = rng.choice(FIRST_NAMES)
        pool = {"spelling variant": list(VARIANTS), "typo": list(TYPOS)}.get(kind, LAST_NAMES)
        last = rng.choice(pool)
        number, born = phone(), birth()
        if kind == "phone":
            index = prospect(first, last, number, None, born if rng.random() < 0.3 else None)
            ext = patient(_dressed(rng, first), _dressed(rng, last), [_written(rng, number)], None, born)
        elif kind == "phone, names swapped":
            index = prospect(first, last, number, None, None)
            ext = patient(last, first, [_written(rng, number)], None, born)
        elif kind == "email":
            mail = email(first, last)
            index = prospect(first, last, number, mail, None)
            ext = patient(first, last, [_written(rng, phone())], mail.upper() if rng.random() < 0.3 else mail, born)
        elif kind == "name + birth date, no contact":
            index = prospect(first, last, None, None, born)
            ext = patient(_dressed(rng, first), last, [_written(rng, phone())], None, born)
        elif kind == "name + birth date, email / phone":
            index = prospect(first, last, None, email(first, last), born)
            ext = patient(_dressed(rng, first), last, [_written(rng, phone())], None, born)
        elif kind == "spelling variant":
            index = prospect(first, last, None, email(first, last), born)
            ext = patient(first, VARIANTS[last], [_written(rng, phone())], None, born)
        elif kind == "typo":
            index = prospect(first, last, None, email(first, last), born)
            ext = patient(first, TYPOS[last], [_written(rng, phone())], None, born)
        elif kind == "phone, birth date mistyped":
            index = prospect(first, last, number, None, born)
            ext = patient(first, last, [_written(rng, number)], None, born + timedelta(days=rng.choice([1, 30, 365])))
        else:   # a new phone since: name + birth date, phones that differ
            index = prospect(first, last, number, None, born)
            ext = patient(first, last, [_written(rng, phone())], None, born)
        data.truth[ext] = index
        data.kinds[ext] = kind
        if kind in auto:
            data.auto.add(ext)
    trap_kinds = [k for k, share in TRAP_KINDS for _ in range(int(round(share * n_traps)))]
    for kind in trap_kinds:
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(list(NEAR) if kind == "near-homonym" else LAST_NAMES)
        number, born = phone(), birth()
        if kind == "child on its mother's number":
            index = prospect(first, last, number, None, born if rng.random() < 0.5 else None)
            child = rng.choice([c for c in CHILDREN if c != first])
            ext = patient(child, last, [_written(rng, number)], None, birth(young=True))
        elif kind == "daughter named after her mother":
            index = prospect(first, last, number, None, born)
            ext = patient(first, last, [_written(rng, number)], None, birth(young=True))
        elif kind == "homonym, other birth date":
            index = prospect(first, last, number, None, born)
            ext = patient(first, last, [_written(rng, phone())], None, born + timedelta(days=rng.randrange(1, 9000)))
        else:
            index = prospect(first, last, number, None, born)
            ext = patient(first, NEAR[last], [_written(rng, phone())], None, born)
        data.traps[ext] = index
        data.kinds[ext] = kind
    while len(data.prospects) < size:      # prospects who never became patients
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        prospect(first, last, phone(), email(first, last) if rng.random() < 0.3 else None,
                 birth() if rng.random() < 0.4 else None)
    while len(data.records) < size:        # patients who never were prospects
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        patient(first, last, [_written(rng, phone())], email(first, last) if rng.random() < 0.3 else None,
                birth())
    order = list(range(len(data.records)))
    rng.shuffle(order)
    # The records as a reader hands them over (a file, a pushed list: made one after the other, in their
    # order), not scattered in memory by the shuffle (which alone costs apply about a tenth more).
    data.records = pickle.loads(pickle.dumps([data.records[i] for i in order]))
    return data


PROSPECT_FIELDS = ("first_name", "last_name", "phone", "phone_raw", "phone_valid", "email", "birth_date", "channel",
                   "origin_detail", "qualification", "temperature", "activity_status", "stage", "outcome",
                   "created_at", "updated_at", "version", "match_name", "match_initial", "search_text")


def load(env, data: Dataset, followup_share: float, seed: int) -> list[int]:
    from webapp.models import FollowUp, Prospect, database
    from webapp.services.next_action import refresh_next_action

    rng = random.Random(seed + 1)
    with env.app.app_context(), database.connection_context():
        bulk_insert(database, Prospect, [getattr(Prospect, f) for f in PROSPECT_FIELDS], data.prospects)
        ids = [i for (i,) in database.execute_sql("SELECT id FROM prospect ORDER BY id").fetchall()]
        rows = [(pid, NOW + timedelta(hours=rng.randint(1, 30 * 24)), "warm", "", "planned", NOW)
                for pid in ids if rng.random() < followup_share]
        bulk_insert(database, FollowUp, [FollowUp.prospect, FollowUp.due_at, FollowUp.value, FollowUp.rule_reason,
                                         FollowUp.state, FollowUp.created_at], rows)
        refresh_next_action()
        database.execute_sql("ANALYZE")
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return ids


def dict_join(db_path, records, region="SN") -> tuple[float, int]:
    """The baseline: the same normalised keys, joined in dicts (prospects read with raw sqlite3)."""
    import sqlite3

    from webapp.rules.contact import normalise_email
    from webapp.rules.matching import name_block_key, phone_e164, surname_initial

    keys = []
    for r in records:
        phones = [p for p in (phone_e164(raw, region) for raw in r.phones) if p]
        day = r.birth_date.isoformat() if r.birth_date else None
        keys.append((phones, normalise_email(r.email), name_block_key(r.first_name, r.last_name) if day else None,
                     surname_initial(r.last_name) if day else None, day))
    started, cpu_started = time.perf_counter(), time.process_time()
    connection = sqlite3.connect(db_path)
    by_phone, by_email, by_name, by_initial = {}, {}, {}, {}
    for pid, phone, email, name, initial, born in connection.execute(
            "SELECT id, phone, email, match_name, match_initial, birth_date FROM prospect "
            "WHERE patient_id IS NULL AND erased_at IS NULL"):
        if phone:
            by_phone.setdefault(phone, []).append(pid)
        if email:
            by_email.setdefault(email, []).append(pid)
        if born:
            by_name.setdefault((name, born), []).append(pid)
            by_initial.setdefault((born, initial), []).append(pid)
    pairs = set()
    for n, (phones, email, name, initial, day) in enumerate(keys):
        for phone in phones:
            pairs.update((n, pid) for pid in by_phone.get(phone, ()))
        if email:
            pairs.update((n, pid) for pid in by_email.get(email, ()))
        if day:
            pairs.update((n, pid) for pid in by_name.get((name, day), ()))
            pairs.update((n, pid) for pid in by_initial.get((day, initial), ()))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    connection.close()
    return elapsed, cpu, len(pairs)


def one_run(env, source_path, run_path, records, profile=False):
    from webapp.db import bind
    from webapp.models import database
    from webapp.services import reconcile

    shutil.copyfile(source_path, run_path)
    bind(f"sqlite:///{run_path}")
    with env.app.app_context(), database.connection_context():
        database.execute_sql("SELECT count(*) FROM prospect").fetchone()   # the file in the page cache
        started, cpu_started = time.perf_counter(), time.process_time()
        if profile:
            import cProfile
            import pstats
            profiler = cProfile.Profile()
            profiler.enable()
        result = reconcile.apply("dossiers", records, now=NOW)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        converted = database.execute_sql(
            "SELECT p.external_id, m.prospect_id FROM patient_match m JOIN patient p ON p.id = m.patient_id "
            "WHERE m.state = 'converted'").fetchall()
        review = database.execute_sql(
            "SELECT p.external_id, m.prospect_id FROM patient_match m JOIN patient p ON p.id = m.patient_id "
            "WHERE m.state = 'open'").fetchall()
    return elapsed, cpu, result, converted, review


@register("reconcile", "100,000 patients reconciled with 100,000 prospects end to end (apply, SQLite) vs a dict "
                       "join on the same keys; precision and recall of the automatic conversions")
def run(args) -> Report:
    from webapp.models import Stage, database

    size = args.size or 100_000
    runs = 2 if args.quick else 5
    report = Report(f"reconcile: {size:,} patients against {size:,} prospects, end to end")
    steps = Steps()
    with bench_app(keep=args.keep) as env:
        with env.app.app_context(), database.connection_context():
            stage_id = (Stage.select(Stage.id).where((Stage.kind == "open") & ~Stage.retired)
                        .order_by(Stage.position, Stage.id).scalar())
        with steps.step("generate"):
            data = generate(size, args.seed, stage_id)
        with steps.step("load prospects and follow-ups"):
            ids = load(env, data, 0.4, args.seed)
        data.prospects = None     # in the database now: the runs start from the heap a sync would have
        gc.collect()
        source_path = env.db_path
        timings, baselines, cpus, base_cpus = [], [], [], []
        first = None
        for n in range(runs):
            progress(f"run {n + 1}/{runs}…")
            elapsed, cpu, result, converted, review = one_run(env, source_path, env.directory / f"run{n}.db",
                                                         data.records, profile=args.profile and n == 0)
            timings.append(elapsed)
            cpus.append(cpu)
            first = first or (result, converted, review)
            base, base_cpu, pairs = dict_join(source_path, data.records)
            baselines.append(base)
            base_cpus.append(base_cpu)
        from webapp.db import bind
        bind(f"sqlite:///{source_path}")
    result, converted, review = first
    by_index = {i: pid for i, pid in enumerate(ids)}
    truth = {(ext, by_index[i]) for ext, i in data.truth.items()}
    auto_truth = {(ext, by_index[i]) for ext, i in data.truth.items() if ext in data.auto}
    review_truth = truth - auto_truth
    converted, review = set(converted), set(review)
    right = converted & truth
    precision = len(right) / len(converted) if converted else 1.0
    recall = len(right) / len(truth) if truth else 1.0
    recall_auto = len(converted & auto_truth) / len(auto_truth) if auto_truth else 1.0
    found = (converted | review) & truth
    in_review = len(review & review_truth) / len(review_truth) if review_truth else 1.0
    traps = {(ext, by_index[i]) for ext, i in data.traps.items()}
    trap_converted = len(converted & traps)

    median, spread = statistics.median(timings), (min(timings), max(timings))
    base_median = statistics.median(baselines)
    ratio = median / base_median
    report.fact("data", f"{size:,} prospects (40% with a planned follow-up), {size:,} patient records: "
                        f"{len(truth):,} true pairs ({len(auto_truth):,} meant to convert by themselves), "
                        f"{len(traps):,} traps; phones written in 7 ways")
    report.fact("set-up", steps.summary())
    report.fact("runs", f"{runs}, each from a copy of the same loaded file")
    report.fact("apply", f"median {median:.2f} s, spread {spread[0]:.2f}-{spread[1]:.2f} s "
                         f"({', '.join(f'{t:.2f}' for t in timings)}); CPU median {statistics.median(cpus):.2f} s")
    report.fact("dict join", f"median {base_median:.3f} s, spread {min(baselines):.3f}-{max(baselines):.3f} s, "
                             f"CPU median {statistics.median(base_cpus):.3f} s ({pairs:,} candidate pairs)")
    report.fact("outcome", f"{result.patients_created:,} patients created, {result.converted:,} converted, "
                           f"{result.to_review:,} pairs to review, {result.unmatched:,} unmatched")
    report.table = [["kind", "pairs", "converted", "in review", "neither"]]
    for kind, *_ in TRUE_KINDS + TRAP_KINDS:
        pairs_of_kind = {(ext, by_index[i]) for ext, i in {**data.truth, **data.traps}.items()
                         if data.kinds[ext] == kind}
        report.table.append([kind, f"{len(pairs_of_kind):,}", f"{len(pairs_of_kind & converted):,}",
                             f"{len(pairs_of_kind & review):,}",
                             f"{len(pairs_of_kind - converted - review):,}"])
    report.verdict(f"reconcile apply under {TARGET_SECONDS:.0f} s", median < TARGET_SECONDS,
                   f"median {median:.2f} s (spread {spread[0]:.2f}-{spread[1]:.2f} s)")
    report.verdict(f"reconcile ratio apply/dict join at most {TARGET_RATIO:.0f}", ratio <= TARGET_RATIO,
                   f"{ratio:.2f}")
    report.verdict("reconcile precision of automatic conversions 1.0", precision == 1.0,
                   f"{precision:.4f} ({len(right):,} right of {len(converted):,}; traps converted: {trap_converted})")
    report.verdict("reconcile every true pair meant for a person is in review", in_review == 1.0,
                   f"{in_review:.4f}")
    report.notes.append(f"recall of automatic conversions: {recall:.4f} of every true pair, {recall_auto:.4f} of "
                        f"the pairs meant to convert by themselves; {len(found):,} of {len(truth):,} true pairs "
                        f"converted or in review")
    report.notes.append(f"the dict join reads the prospects' keys and collects candidate pairs only: no write, "
                        f"no verdict; apply also normalises {size:,} records, writes patients, phones, matches, "
                        "conversions, history and audit")
    return report
