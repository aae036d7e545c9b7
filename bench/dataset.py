"""A throw-away Relance database for benchmarks: the real schema (migrations + defaults), a few staff
accounts, and a fast bulk load of realistic prospects (Senegalese names, unique +22177 phones, a year of
history) whose search text is computed by the app's own code.
"""
import contextlib
import random
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator

from .common import Steps, environment, progress

PASSWORD = "bench-password-42"

# (name, role). The first secretary is the one benchmarks log in as.
STAFF = [("Codou Diop", "secretary"), ("Aminata Fall", "secretary"), ("Ousmane Sarr", "secretary"),
         ("Khady Ndiaye", "lead"), ("Moussa Ba", "manager"), ("Admin Relance", "admin")]

FIRST_NAMES = [
    "Awa", "Fatou", "Aminata", "Aïssatou", "Mariama", "Khady", "Ndèye", "Coumba", "Astou", "Rokhaya",
    "Sokhna", "Adama", "Bineta", "Penda", "Maïmouna", "Marième", "Dieynaba", "Oumou", "Seynabou", "Yacine",
    "Ndèye Fatou", "Thérèse", "Marie-Hélène", "Fatoumata", "Khadija", "Arame", "Daba", "Nafissatou",
    "Mame Diarra", "Anta",
    "Mamadou", "Moussa", "Ibrahima", "Abdoulaye", "Cheikh", "Ousmane", "Modou", "Babacar", "Amadou",
    "Aliou", "Serigne", "Pape", "Lamine", "Malick", "Omar", "Souleymane", "Djibril", "Assane", "Alioune",
    "Mouhamed", "El Hadji", "Idrissa", "Boubacar", "Samba", "Demba", "Saliou", "Élimane", "Jean-Pierre",
    "Séni", "Mbaye",
]
# (last name, weight): a few very common names, a long tail, and rare ones (a handful of rows at 100k).
LAST_NAMES = [
    ("Diop", 9), ("Ndiaye", 9), ("Fall", 6), ("Sow", 6), ("Diallo", 6), ("Gueye", 4), ("Guèye", 1),
    ("Faye", 4), ("Sarr", 4), ("Ba", 4), ("Mbaye", 4), ("Seck", 3), ("Cissé", 3), ("Thiam", 3),
    ("Niang", 3), ("Kane", 3), ("Diouf", 3), ("Sy", 2), ("Touré", 2), ("Camara", 2), ("Mbengue", 2),
    ("Dieng", 2), ("Ndour", 2), ("Sène", 2), ("Wade", 2), ("Lô", 1), ("Diagne", 2), ("Badji", 1),
    ("Sagna", 1), ("Coly", 1), ("Mendy", 1), ("Gomis", 1), ("Diatta", 1), ("Tall", 1), ("Kâ", 1),
    ("Ndao", 1), ("Samb", 1), ("Sall", 2), ("Dione", 1), ("Gaye", 1), ("Ly", 1), ("Thiaw", 1),
    ("Diédhiou", 1),
]
RARE_LAST_NAMES = ["Senghor", "Bassène", "Tendeng", "Manga", "Preira", "Carvalho", "Dos Santos", "Bampoky",
                   "Sambou", "Goudiaby", "Diémé", "Kandé"]
RARE_WEIGHT = 0.03
COMMON_LAST_NAMES = [name for name, weight in LAST_NAMES if weight >= 4]

EMAIL_DOMAINS = ["gmail.com", "yahoo.fr", "orange.sn", "hotmail.com"]
CHANNELS = [("phone", 40), ("whatsapp", 20), ("facebook", 15), ("webform", 10), ("visit", 10), ("email", 5)]
QUALIFICATIONS = [("appointment", 40), ("quote", 30), ("programme", 20), (None, 10)]
TEMPERATURES = [("hot", 20), ("warm", 50), ("cold", 30)]


@dataclass
class Person:
    """What a benchmark needs to query a generated prospect back."""
    id: int
    first_name: str
    last_name: str
    phone: str            # E.164


@dataclass
class BenchEnv:
    app: object           # the Flask app
    directory: Path
    db_path: Path
    users: dict = field(default_factory=dict)   # email -> User
    people: list[Person] = field(default_factory=list)
    steps: Steps = field(default_factory=Steps)
    followups: int = 0

    @property
    def secretary(self):
        return next(u for u in self.users.values() if u.role == "secretary")

    def logged_in_client(self, user=None):
        """A Flask test client with a session for `user` (the first secretary by default)."""
        user = user or self.secretary
        client = self.app.test_client()
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        if response.status_code != 302:
            raise RuntimeError(f"login as {user.email} failed: {response.status_code}")
        return client

    def raw_connection(self) -> sqlite3.Connection:
        """A plain sqlite3 connection to the same file, with the app's pragmas."""
        from webapp.db import SQLITE_PRAGMAS

        connection = sqlite3.connect(self.db_path)
        for name, value in SQLITE_PRAGMAS.items():
            connection.execute(f"PRAGMA {name} = {value}")
        return connection


@contextlib.contextmanager
def bench_app(keep: bool = False, **config) -> Iterator[BenchEnv]:
    """The app on a fresh SQLite file in a temp dir, schema migrated, defaults and staff created.

    The environment variables are restored and the directory removed on exit (unless `keep`).
    """
    directory = Path(tempfile.mkdtemp(prefix="relance-bench-"))
    db_path = directory / "relance.db"
    steps = Steps()
    try:
        with environment(RELANCE_DATABASE_URL=f"sqlite:///{db_path}", RELANCE_SECRET_KEY="bench-secret",
                         RELANCE_HUEY_URL=f"sqlite:///{directory / 'huey.db'}"):
            from webapp import create_app
            from webapp.db import migrate
            from webapp.models import database
            from webapp.services.defaults import ensure_defaults
            from webapp.services.users import create_user

            app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                              **config})
            env = BenchEnv(app=app, directory=directory, db_path=db_path, steps=steps)
            with app.app_context(), database.connection_context():
                with steps.step("schema"):
                    migrate()
                    ensure_defaults()
                with steps.step("users"):
                    for number, (name, role) in enumerate(STAFF, 1):
                        email = f"{role}{number}@bench.test"
                        env.users[email] = create_user(email, name, role, PASSWORD)
            yield env
            if not database.is_closed():
                database.close()
    finally:
        if keep:
            progress(f"kept the database: {db_path}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


def _weighted(rng: random.Random, pairs: list, k: int) -> list:
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights, k=k)


def _phone_raw(rng: random.Random, national: str) -> str:
    """The number as someone typed it: `77 123 45 67`, `771234567`, `+221 77 123 45 67`…"""
    spaced = f"{national[:2]} {national[2:5]} {national[5:7]} {national[7:]}"
    form = rng.random()
    if form < 0.5:
        return spaced
    if form < 0.7:
        return national
    if form < 0.85:
        return f"+221 {spaced}"
    if form < 0.95:
        return f"00221{national}"
    return spaced.replace(" ", "-")


def load_prospects(env: BenchEnv, size: int, seed: int, followup_share: float = 0.4) -> None:
    """Insert `size` prospects (and a planned follow-up for `followup_share` of them) in bulk.

    Fills env.people (id, names, phone) for the benchmarks to query back; durations go to env.steps.
    """
    from webapp.models import FollowUp, Prospect, Stage, database
    from webapp.rules.text import fold
    from webapp.services.next_action import refresh_next_action
    from webapp.services.prospects import prospect_search_text
    from webapp.timeutil import utcnow

    rng = random.Random(seed)
    steps = env.steps
    staff_ids = [u.id for u in env.users.values() if u.role != "admin"]
    secretary_ids = [u.id for u in env.users.values() if u.role == "secretary"]
    last_pairs = LAST_NAMES + [(name, RARE_WEIGHT) for name in RARE_LAST_NAMES]
    fields = [Prospect.first_name, Prospect.last_name, Prospect.phone, Prospect.phone_raw, Prospect.phone_valid,
              Prospect.email, Prospect.birth_date, Prospect.channel, Prospect.origin_detail,
              Prospect.qualification, Prospect.temperature, Prospect.activity_status, Prospect.stage,
              Prospect.outcome, Prospect.owner, Prospect.created_by, Prospect.do_not_contact,
              Prospect.action_budget, Prospect.actions_used, Prospect.interaction_count,
              Prospect.first_contact_at, Prospect.last_interaction_at, Prospect.created_at,
              Prospect.updated_at, Prospect.version, Prospect.search_text]

    with env.app.app_context(), database.connection_context():
        stage_id = (Stage.select(Stage.id).where((Stage.kind == "open") & ~Stage.retired)
                    .order_by(Stage.position, Stage.id).scalar())
        now = utcnow().replace(microsecond=0)
        year = 365 * 24 * 3600

        with steps.step("generate rows"):
            firsts = rng.choices(FIRST_NAMES, k=size)
            lasts = _weighted(rng, last_pairs, size)
            channels = _weighted(rng, CHANNELS, size)
            qualifications = _weighted(rng, QUALIFICATIONS, size)
            temperatures = _weighted(rng, TEMPERATURES, size)
            numbers = rng.sample(range(10_000_000), size)
            rows, people = [], []
            for i in range(size):
                first, last = firsts[i], lasts[i]
                national = f"77{numbers[i]:07d}"
                phone = f"+221{national}"
                email = None
                if rng.random() < 0.3:
                    email = (f"{fold(first).replace(' ', '.').replace('-', '.')}.{fold(last).replace(' ', '')}"
                             f"{rng.randint(1, 999)}@{rng.choice(EMAIL_DOMAINS)}")
                phone_raw = _phone_raw(rng, national)
                # An unsaved Prospect, so the app's own function computes exactly what it would store.
                text = prospect_search_text(Prospect(first_name=first, last_name=last, email=email,
                                                     phone=phone, phone_raw=phone_raw))
                created = now - timedelta(seconds=rng.randrange(year))
                if rng.random() < 0.05:
                    last_at = None        # never reached since the intake
                else:
                    last_at = created + timedelta(seconds=rng.randrange(int((now - created).total_seconds()) + 1))
                idle_days = (now - (last_at or created)).days
                activity = "normal" if idle_days < 60 else "dormant" if idle_days < 120 else "lost"
                used = rng.randint(0, 15)
                rows.append((
                    first, last, phone, phone_raw, True, email,
                    date(1960, 1, 1) + timedelta(days=rng.randrange(16000)) if rng.random() < 0.2 else None,
                    channels[i], "", qualifications[i], temperatures[i], activity, stage_id, "open",
                    rng.choice(staff_ids) if rng.random() < 0.85 else None,
                    rng.choice(secretary_ids) if rng.random() < 0.7 else None,
                    rng.random() < 0.02, 15, used, used + rng.randint(1, 3), created, last_at, created,
                    last_at or created, 1, text))
                people.append((first, last, phone))

        with steps.step("insert prospects"):
            bulk_insert(database, Prospect, fields, rows)
            # A fresh table: ids follow the insertion order.
            ids = [row_id for (row_id,) in
                   database.execute_sql("SELECT id FROM prospect ORDER BY id").fetchall()[-size:]]
            env.people = [Person(row_id, *person) for row_id, person in zip(ids, people)]

        if followup_share:
            with steps.step("insert follow-ups"):
                fu_fields = [FollowUp.prospect, FollowUp.owner, FollowUp.due_at, FollowUp.value,
                             FollowUp.comment, FollowUp.rule_reason, FollowUp.state, FollowUp.created_at]
                fu_rows = [(pid, rows[i][14], now + timedelta(hours=rng.randint(-30 * 24, 30 * 24)),
                            rows[i][10], "", "", "planned", now)
                           for i, pid in enumerate(ids) if rng.random() < followup_share]
                bulk_insert(database, FollowUp, fu_fields, fu_rows)
                env.followups = len(fu_rows)
                refresh_next_action()   # the app keeps it on every write; bulk_insert bypasses the app

        with steps.step("checkpoint"):
            database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def bulk_insert(database, model, fields: list, rows: list[tuple]) -> None:
    """Insert many rows fast, in one transaction: Peewee writes the one-row INSERT (and would append
    the defaults of any column not listed), sqlite3's executemany runs it for every row.

    Peewee's `insert_many` renders every value into one SQL text, about 5x slower at 100,000 rows; the
    values reach the driver unchanged either way (checked on the first row).
    """
    if not rows:
        return
    sql, params = model.insert_many([rows[0]], fields=fields).sql()
    if list(params[:len(fields)]) != list(rows[0]):
        raise AssertionError(f"Peewee converts {model.__name__} values: bulk_insert would store them differently")
    defaults = tuple(params[len(fields):])   # columns not listed: their model defaults, the same for all rows
    with database.atomic():
        database.cursor().executemany(sql, [row + defaults for row in rows] if defaults else rows)
