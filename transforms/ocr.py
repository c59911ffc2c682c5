"""Pictures of tables to text cells (pure computation on bytes; OCR by rapidocr-onnxruntime).

A page image is straightened (the skew that maximises the ruling lines' projection),
cut into row bands at its horizontal ruling lines and each band into cells at the
vertical lines that cross it (so merged cells come out as one cell). The page's text
boxes (PP-OCR detection + recognition) give the labels; every cell that holds no
Chinese text is read again on its own (recognition only, on the cell's crop), so a
lone "0" that detection overlooks is still read. Output: ``Band`` rows of ``Cell``
texts with the recogniser's confidence, in reading order. Deciding what the numbers
are is ``transforms.imagetable``'s job.

The recogniser is built once per process (its model ships inside the wheel; nothing is
downloaded). ~1.5 CPU-s per 150 dpi page (benchmarks/bench_ocr.py).
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

MAX_PIXELS = 40_000_000  # a picture larger than this is refused (decompression bombs)
MAX_SIDE = 5000  # longer sides are scaled down before OCR
LINE_LEVEL = 150  # darker than this: part of a ruling line
INK_LEVEL = 150  # darker than this: ink of a character
# The recogniser pads every crop to at least this width. PP-OCR's default, 320, reads a lone
# digit best; 64 costs less than half the time. First readings use FAST_WIDTH (the
# invariants catch their slips); second readings use SURE_WIDTH.
FAST_WIDTH = 64
SURE_WIDTH = 320
# A cell this narrow with several lines of text is a value column's header ("社会公益/组织",
# "结果/维持") or vertical text ("三、本年度办理结果"): nothing the tables need, so not read.
NARROW_CELL = 110
_CJK = re.compile(r"[\u4e00-\u9fff]")


class OcrError(ValueError):
    """The picture cannot be read."""


@dataclass
class Cell:
    x0: int
    x1: int
    text: str = ""
    conf: float = 1.0
    cjk: bool = False
    rereads: dict = field(default_factory=dict)  # mode -> (text, confidence): see reread
    skipped: bool = False  # several lines of text in a narrow cell: words, not read (see read_page)
    crop: object = field(default=None, repr=False)  # the cell's one line of ink, for a second reading

    @property
    def ink(self) -> bool:
        return self.crop is not None or bool(self.text)


@dataclass
class Band:
    """One row of a table between two horizontal ruling lines (or a line of free text)."""

    y0: int
    y1: int
    cells: list[Cell] = field(default_factory=list)
    page: int = 0
    ruled: bool = True

    @property
    def label(self) -> str:
        return "".join(c.text for c in self.cells if c.cjk)


@lru_cache(maxsize=1)
def recogniser():
    """PP-OCR's text recogniser, once per process (its model ships inside the wheel; loading it
    costs ~0.1 s). Only recognition: the cells are found by the ruling lines, not by PP-OCR's
    detector. One thread: the parse workers are the parallelism, and ONNX Runtime's own threads
    only contend with them."""
    from pathlib import Path

    import rapidocr_onnxruntime
    from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
    from rapidocr_onnxruntime.utils import read_yaml

    root = Path(rapidocr_onnxruntime.__file__).resolve().parent
    config = read_yaml(str(root / "config.yaml"))["Rec"]
    config.update(model_path=str(root / config["model_path"]), intra_op_num_threads=1, inter_op_num_threads=1)
    rec = TextRecognizer(config)
    # One crop per run, padded to its own width only: its reading does not depend on which
    # other crops share its batch, and it costs ~25% less CPU than batches of 6 (a batch pads
    # every crop to the widest, and its working set outgrows the CPU's cache).
    rec.rec_batch_num = 1
    return rec


def load_image(data: bytes):
    """Bytes of a PNG/JPEG/GIF/BMP/WebP picture -> a grayscale PIL image."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a clear error
        raise OcrError(f"not a readable picture: {exc}") from exc
    img = img.convert("L")
    if max(img.size) > MAX_SIDE:
        f = MAX_SIDE / max(img.size)
        img = img.resize((int(img.width * f), int(img.height * f)))
    return img


def _dark(img) -> np.ndarray:
    return np.asarray(img, dtype=np.uint8) < LINE_LEVEL


def skew_angle(img) -> float:
    """Degrees to rotate by so that ruling lines are level (0 when there are none)."""
    from PIL import Image

    small = img.resize((img.width // 2, img.height // 2))
    best, best_score = 0.0, -1.0
    for angle in np.arange(-1.5, 1.51, 0.1):
        rot = small.rotate(float(angle), resample=Image.NEAREST, fillcolor=255)
        prof = _dark(rot).sum(axis=1).astype(np.float64)
        score = float((prof ** 2).sum())
        if score > best_score:
            best, best_score = float(angle), score
    return round(best, 2)


def straighten(img):
    from PIL import Image

    angle = skew_angle(img)
    return img.rotate(angle, resample=Image.BICUBIC, fillcolor=255) if angle else img


def _runs(mask: np.ndarray, min_len: int = 1) -> list[tuple[int, int]]:
    """(start, end) of the runs of True."""
    out, start = [], None
    for i, v in enumerate(mask):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if i - start >= min_len:
                out.append((start, i))
            start = None
    if start is not None and len(mask) - start >= min_len:
        out.append((start, len(mask)))
    return out


def _longest_run(row: np.ndarray) -> int:
    if not row.any():
        return 0
    padded = np.concatenate(([0], row.astype(np.int8), [0]))
    d = np.diff(padded)
    starts, ends = np.where(d == 1)[0], np.where(d == -1)[0]
    return int((ends - starts).max())


def ruling_lines(img) -> tuple[list[int], np.ndarray]:
    """y of each horizontal ruling line (a dark run over a fifth of the width), and the mask."""
    dark = _dark(img)
    min_len = max(60, img.width // 5)
    ys = [y for y in range(dark.shape[0]) if dark[y].sum() >= min_len and _longest_run(dark[y]) >= min_len]
    lines = [int((a + b) // 2) for a, b in _runs(np.isin(np.arange(dark.shape[0]), ys))]
    return lines, dark


def _band_cells(dark: np.ndarray, y0: int, y1: int, x_lo: int, x_hi: int) -> list[tuple[int, int]]:
    """Cells of one band: split at the vertical lines that cross its whole height."""
    inner = dark[y0 + 3:y1 - 2, x_lo:x_hi]
    if inner.shape[0] < 4:
        return []
    full = inner.mean(axis=0) >= 0.85
    xs = [x_lo + (a + b) // 2 for a, b in _runs(full)]
    return [(a, b) for a, b in zip(xs, xs[1:], strict=False) if b - a > 12]


def _ink_mask(sub: np.ndarray) -> np.ndarray:
    """Dark pixels that touch another dark pixel (a lone speck of scanner noise is not ink)."""
    core = np.zeros_like(sub)
    core[:-1] |= sub[:-1] & sub[1:]
    core[1:] |= sub[:-1] & sub[1:]
    core[:, :-1] |= sub[:, :-1] & sub[:, 1:]
    core[:, 1:] |= sub[:, :-1] & sub[:, 1:]
    return core


def _text_lines(img, dark: np.ndarray, x0: int, y0: int, x1: int, y1: int, min_ink: int = 4) -> list:
    """The text lines inside a box, each cut tight with a margin (none for an empty box)."""
    sub = _ink_mask(np.asarray(img.crop((x0, y0, x1, y1)), dtype=np.uint8) < INK_LEVEL) if y1 > y0 and x1 > x0 \
        else np.zeros((0, 0), dtype=bool)
    if sub.size == 0 or sub.sum() < 4:
        return []
    free_text = min_ink > 8  # a line of text outside the tables must look like one
    min_ink = max(min_ink, 8)
    out = []
    for a, b in _dense_runs(sub.sum(axis=1), gap=2 if free_text else 4, min_ink=min_ink):
        if b - a < (8 if free_text else 4):
            continue
        spans = _dense_runs(sub[a:b].sum(axis=0), gap=14, min_ink=min_ink)
        if not spans:
            continue
        c0, c1 = spans[0][0], spans[-1][1]
        rows = np.where(sub[a:b, c0:c1].any(axis=1))[0]
        a, b = a + int(rows.min()), a + int(rows.max()) + 1
        m = 5
        out.append(img.crop((max(x0 + c0 - m, 0), max(y0 + a - m, 0),
                             min(x0 + c1 + m, img.width), min(y0 + b + m, img.height))))
    return _merge_vertical(out)


def _merge_vertical(lines: list) -> list:
    return lines


def _dense_runs(profile: np.ndarray, gap: int, min_ink: int) -> list[tuple[int, int]]:
    """Runs of non-empty positions, joined across gaps up to ``gap``; runs with less ink
    than ``min_ink`` (specks) are dropped."""
    runs = _runs(profile > 0)
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] <= gap:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged if profile[a:b].sum() >= min_ink]


def _clean_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _recognise(crops: list, width: int = FAST_WIDTH) -> list[tuple[str, float]]:
    if not crops:
        return []
    rec = recogniser()
    rec.rec_image_shape = [3, 48, width]  # read per call by rapidocr 1.4's TextRecognizer
    got, _ = rec([np.asarray(c.convert("RGB")) for c in crops])
    return [(_clean_text(t), float(s)) for t, s in got]


_PLAIN = re.compile(r"^(?:\d+(?:\.\d+)?|/|-)$")


def _recognise_jobs(jobs: list) -> None:
    """Read every job's crops in one call to the recogniser; a value
    cell keeps its crop for second readings (``reread``)."""
    got = iter(_recognise([c for _, cs in jobs for c in cs]))
    for cell, cs in jobs:
        _assign(cell, [next(got) for _ in cs])
        if len(cs) == 1 and not cell.cjk:
            cell.crop = cs[0]


def stray_marks(cell: Cell) -> bool:
    """A value cell read with stray marks (not plain digits, "/" or "-"): a denoised reading
    may serve it (``reread(..., DENOISED)``, asked for only where the first gives no value)."""
    return cell.crop is not None and not _PLAIN.match(cell.text.replace(" ", ""))


DENOISED = "denoised"
STRETCHED = "stretched"
PLAIN = "plain"


def reread(cells: list[Cell], mode: str = DENOISED) -> None:
    """Read value cells again from their crop: ``plain`` (at the recogniser's full width),
    ``denoised`` (a median filter removes the scanner's specks) or ``stretched`` sideways (the
    recogniser's CTC decoding can merge two equal digits, "44" -> "4"; set wider apart they
    are read apart)."""
    from PIL import ImageFilter

    todo = [c for c in cells if c.crop is not None and mode not in c.rereads]
    if mode == DENOISED:
        crops = [c.crop.filter(ImageFilter.MedianFilter(3)) for c in todo]
    elif mode == STRETCHED:
        crops = [c.crop.resize((int(c.crop.width * 1.6), c.crop.height)) for c in todo]
    else:
        crops = [c.crop for c in todo]
    # the denoised reading serves cells the invariants check: the narrow width will do
    for cell, got in zip(todo, _recognise(crops, FAST_WIDTH if mode == DENOISED else SURE_WIDTH), strict=True):
        cell.rereads[mode] = got


def _assign(cell: Cell, got: list) -> None:
    cell.text = "".join(t for t, _ in got)
    cell.conf = min((c for _, c in got), default=1.0)
    cell.cjk = bool(_CJK.search(cell.text))


def read_page(img, page: int = 0) -> list[Band]:
    """A page picture -> its bands (table rows and free text lines), top to bottom."""
    img = straighten(img)
    lines, dark = ruling_lines(img)
    bands: list[Band] = []
    jobs: list[tuple[Cell, list]] = []
    cols = np.where(dark.any(axis=0))[0]
    x_lo, x_hi = (int(cols.min()), int(cols.max()) + 1) if cols.size else (0, img.width)
    covered = np.zeros(img.height, dtype=bool)
    for y0, y1 in zip(lines, lines[1:], strict=False):
        if y1 - y0 < 12:
            continue
        spans = _band_cells(dark, y0, y1, x_lo, x_hi)
        if not spans:
            continue
        covered[max(y0 - 3, 0):y1 + 3] = True
        band = Band(y0, y1, [Cell(a, b) for a, b in spans], page)
        for cell in band.cells:
            lines = _text_lines(img, dark, cell.x0 + 4, y0 + 4, cell.x1 - 3, y1 - 3)
            if len(lines) > 1 and cell.x1 - cell.x0 <= NARROW_CELL:
                cell.skipped = True  # wrapped words in a value column: a header, or vertical text
                lines = []
            jobs.append((cell, lines))
        bands.append(band)
    # Text outside the ruled tables (titles, headings, narrative): one band per text line.
    free = ~covered
    for a, b in _runs(free):
        for crop_line in _text_lines(img, dark, 0, a, img.width, b, min_ink=60):
            cell = Cell(0, img.width)
            top = a  # reading order only
            band = Band(top, top, [cell], page, ruled=False)
            jobs.append((cell, [crop_line]))
            bands.append(band)
            a += 1
    _recognise_jobs(jobs)
    bands = [b for b in bands if b.ruled or b.cells[0].text.strip()]
    bands.sort(key=lambda b: b.y0)
    return bands


def read_images(images: list[bytes]) -> list[Band]:
    """Several pictures (e.g. the <img> tables of a page, in page order) as one band list."""
    out: list[Band] = []
    for i, data in enumerate(images):
        out += read_page(load_image(data), page=i)
    return out
