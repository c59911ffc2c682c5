/* An HTML page's body rendered as text from the tree lxml parsed (optional; transforms/html.py).
 *
 * html.py's _Renderer walks lxml's elements from Python, at ~0.5 us per table cell (a proxy
 * object, .text, .tag, .values() each). This file walks the same libxml2 nodes lxml built, in C,
 * and writes what _Renderer writes: the same rules (skipped, block and table elements, cells and
 * colspan fillers, captions, layout tables, <br>, short <sup>, <img> and <a> counted), the same
 * whitespace (Python's str.split() set) and "|" rules, byte for byte. Whatever it was not written
 * for (a namespace, an upper-case or non-ASCII tag name, an entity node, a colspan that is not a
 * plain number, nesting near html.py's _MAX_DEPTH, an attribute made of several nodes) makes it
 * answer -1, and html.py renders that page in Python: the answers never depend on this file.
 *
 * No Python API and no link against libxml2: a plain shared library loaded with cffi's ABI mode.
 * The element is passed as the address of lxml's proxy object, whose layout lxml publishes
 * (lxml.etree.h: struct LxmlElement = PyObject_HEAD, _doc, _c_node, _tag); the node it names is
 * used only if it points back to that proxy (lxml sets node->_private to it).
 * Build: cc -O2 -shared -fPIC $(lxml's include dirs) -o transforms/_htmltext.so transforms/_htmltext.c
 * (make does it; libxml2's headers are the ones lxml was built with). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/tree.h>
#include <libxml/xmlversion.h>

/* html._TEXT_VERSION: changed with any signature or rule below, so a stale build is not loaded */
#define HTMLTEXT_VERSION 2
#define MAX_DEPTH 400 /* html._MAX_DEPTH */
#define DEPTH_LIMIT (MAX_DEPTH - 8) /* deeper: Python renders the page (its flattening rule) */

enum { UNSUPPORTED = -1, TOO_SMALL = -2 };

typedef struct {
    char *out;
    long pos, cap;
    char *links;
    long lpos, lcap;
    char *scratch;
    long spos, scap;
    long images, tables;
    int status; /* 0, UNSUPPORTED or TOO_SMALL */
} W;

int htmltext_version(void) { return HTMLTEXT_VERSION; }

/* The libxml2 whose headers this was built with (html.py loads it only with that lxml's libxml2). */
int htmltext_libxml_version(void) { return LIBXML_VERSION; }

static void put(W *w, const char *s, long n) {
    if (w->status) return;
    if (w->pos + n > w->cap) { w->status = TOO_SMALL; return; }
    memcpy(w->out + w->pos, s, n);
    w->pos += n;
}

static void put_link(W *w, const char *s, long n) {
    if (w->status) return;
    if (w->lpos + n + 1 > w->lcap) { w->status = TOO_SMALL; return; }
    memcpy(w->links + w->lpos, s, n);
    w->lpos += n;
    w->links[w->lpos++] = '\0';
}

static void put_scratch(W *w, const char *s, long n) {
    if (w->status) return;
    if (w->spos + n > w->scap) {
        long cap = w->scap * 2 + n + 256;
        char *p = realloc(w->scratch, cap);
        if (!p) { w->status = UNSUPPORTED; return; }
        w->scratch = p;
        w->scap = cap;
    }
    memcpy(w->scratch + w->spos, s, n);
    w->spos += n;
}

/* ASCII whitespace of Python's str.split(): \t \n \v \f \r, \x1c-\x1f and the space. */
static const unsigned char ASCII_SPACE[128] = {
    ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1,
    [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, [' '] = 1,
};

/* Length in bytes of the non-ASCII whitespace character at s (str.split()'s: U+0085, U+00A0,
 * U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), or 0. */
static int wide_space_at(const unsigned char *s, const unsigned char *end) {
    unsigned char c = s[0];
    if (c == 0xc2 && s + 1 < end) return (s[1] == 0x85 || s[1] == 0xa0) ? 2 : 0;
    if (c < 0xe1 || c > 0xe3 || s + 2 >= end) return 0;
    if (c == 0xe1) return (s[1] == 0x9a && s[2] == 0x80) ? 3 : 0;
    if (c == 0xe2) {
        if (s[1] == 0x80) return ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf) ? 3 : 0;
        if (s[1] == 0x81) return s[2] == 0x9f ? 3 : 0;
        return 0;
    }
    return (s[1] == 0x80 && s[2] == 0x80) ? 3 : 0; /* 0xe3: U+3000 */
}

/* Length in bytes of the whitespace character at s (Python's str.split() set), or 0. */
static inline int space_at(const unsigned char *s, const unsigned char *end) {
    return s[0] < 0x80 ? ASCII_SPACE[s[0]] : wide_space_at(s, end);
}

/* " ".join(s.split()) written at dst (dst <= s allowed: it never writes ahead of its reading);
 * with pipes, every "|" becomes "/". Returns the length written. */
static long squash(char *dst, const char *src, long n, int pipes) {
    const unsigned char *s = (const unsigned char *)src, *end = s + n;
    long k = 0;
    int gap = 0;
    while (s < end) {
        unsigned char c = *s;
        int sp = c < 0x80 ? ASCII_SPACE[c] : wide_space_at(s, end);
        if (sp) { gap = k > 0; s += sp; continue; }
        if (gap) { dst[k++] = ' '; gap = 0; }
        dst[k++] = (pipes && c == '|') ? '/' : (char)c;
        s++;
    }
    return k;
}

/* squash() of a NUL-terminated text (a node's content) written at the output's end: no strlen.
 * wide_space_at's tests stop at the NUL (it differs from every byte they compare with). */
static void put_squashed_z(W *w, const char *src, int pipes) {
    if (w->status) return;
    const unsigned char *s = (const unsigned char *)src;
    char *dst = w->out + w->pos;
    long k = 0, room = w->cap - w->pos;
    int gap = 0;
    while (*s) {
        unsigned char c = *s;
        int sp = c < 0x80 ? ASCII_SPACE[c] : wide_space_at(s, s + 4);
        if (sp) { gap = k > 0; s += sp; continue; }
        if (k + 2 > room) { w->status = TOO_SMALL; return; }
        if (gap) { dst[k++] = ' '; gap = 0; }
        dst[k++] = (pipes && c == '|') ? '/' : (char)c;
        s++;
    }
    w->pos += k;
}

static void put_squashed(W *w, const char *s, long n, int pipes) {
    if (w->status) return;
    if (w->pos + n > w->cap) { w->status = TOO_SMALL; return; }
    w->pos += squash(w->out + w->pos, s, n, pipes);
}

/* The tags html.py tells apart; every other element is OTHER. */
enum { OTHER, SKIP, BLOCK, IMG, BR, SUP, A, TABLE, TR, SECTION, TD, CAPTION };

#define IS(lit) (strcmp(name, lit) == 0)

/* The element's kind, or UNSUPPORTED (a namespace, or a name html.py's lower() could change):
 * html.py's _SKIP and _BLOCK, told apart by first letter. */
static int kind_of(const xmlNode *el) {
    if (el->ns != NULL || el->name == NULL) return UNSUPPORTED;
    const char *name = (const char *)el->name;
    for (const unsigned char *p = el->name; *p; p++)
        if (*p >= 0x80 || (*p >= 'A' && *p <= 'Z')) return UNSUPPORTED;
    switch (name[0]) {
    case 'a':
        if (!name[1]) return A;
        return IS("article") || IS("address") || IS("aside") ? BLOCK : OTHER;
    case 'b': return IS("br") ? BR : IS("blockquote") ? BLOCK : OTHER;
    case 'c': return IS("caption") ? CAPTION : IS("center") ? BLOCK : OTHER;
    case 'd': return IS("div") || IS("dl") || IS("dt") || IS("dd") ? BLOCK : OTHER;
    case 'e': return IS("embed") ? SKIP : OTHER;
    case 'f': return IS("footer") || IS("form") || IS("figure") || IS("figcaption") ? BLOCK : OTHER;
    case 'h':
        if (name[1] >= '1' && name[1] <= '6' && !name[2]) return BLOCK;
        return IS("header") || IS("hr") ? BLOCK : OTHER;
    case 'i': return IS("img") ? IMG : IS("iframe") ? SKIP : OTHER;
    case 'l': return IS("li") ? BLOCK : OTHER;
    case 'm': return IS("main") ? BLOCK : OTHER;
    case 'n': return IS("nav") ? BLOCK : IS("noscript") ? SKIP : OTHER;
    case 'o': return IS("ol") ? BLOCK : IS("object") ? SKIP : OTHER;
    case 'p': return IS("p") || IS("pre") ? BLOCK : OTHER;
    case 's':
        if (IS("sup")) return SUP;
        if (IS("section")) return BLOCK;
        return IS("script") || IS("style") || IS("svg") || IS("select") ? SKIP : OTHER;
    case 't':
        if (IS("td") || IS("th")) return TD;
        if (IS("tr")) return TR;
        if (IS("table")) return TABLE;
        if (IS("tbody") || IS("thead") || IS("tfoot")) return SECTION;
        if (IS("title")) return BLOCK;
        return IS("template") ? SKIP : OTHER;
    case 'u': return IS("ul") ? BLOCK : OTHER;
    default: return OTHER;
    }
}

/* A node html.py's walk may meet among an element's children: element, text, CDATA, comment, PI. */
static int known_child(W *w, const xmlNode *c) {
    switch (c->type) {
    case XML_ELEMENT_NODE: case XML_TEXT_NODE: case XML_CDATA_SECTION_NODE:
    case XML_COMMENT_NODE: case XML_PI_NODE:
        return 1;
    default:
        w->status = UNSUPPORTED;
        return 0;
    }
}

static int is_text(const xmlNode *c) { return c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE; }

/* "".join(el.itertext()) appended to the scratch buffer: every text below el, in order. */
static void text_content(W *w, const xmlNode *el, int depth) {
    if (depth > DEPTH_LIMIT) { w->status = UNSUPPORTED; return; }
    for (const xmlNode *c = el->children; c && !w->status; c = c->next) {
        if (!known_child(w, c)) return;
        if (is_text(c)) {
            if (c->content) put_scratch(w, (const char *)c->content, (long)strlen((const char *)c->content));
        } else if (c->type == XML_ELEMENT_NODE) {
            text_content(w, c, depth + 1);
        }
    }
}

/* An attribute's value as lxml's get() gives it (NULL: absent); UNSUPPORTED if made of several nodes. */
static const char *attribute(W *w, const xmlNode *el, const char *name) {
    for (const xmlAttr *a = el->properties; a; a = a->next) {
        if (a->ns != NULL) { w->status = UNSUPPORTED; return NULL; }
        if (strcmp((const char *)a->name, name) != 0) continue;
        if (a->children == NULL) return "";
        if (a->children->next != NULL || !is_text(a->children) || a->children->content == NULL) {
            w->status = UNSUPPORTED;
            return NULL;
        }
        return (const char *)a->children->content;
    }
    return NULL;
}

/* html._span(colspan) - 1; UNSUPPORTED unless the value is empty or plain ASCII digits. */
static long fillers_of(W *w, const char *value) {
    if (value == NULL || !value[0]) return 0;
    long n = 0;
    for (const char *p = value; *p; p++) {
        if (*p < '0' || *p > '9') { w->status = UNSUPPORTED; return 0; }
        if (n <= 100) n = n * 10 + (*p - '0');
    }
    if (n > 100) n = 100;
    return n < 1 ? 0 : n - 1;
}

/* lxml's len(el): its children that are elements, comments or processing instructions. */
static int has_children(const xmlNode *el) {
    for (const xmlNode *c = el->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE || c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE) return 1;
    return 0;
}

/* Whether an element named "table" (lxml's iterdescendants("table"), find(".//table")) is below el. */
static int has_table_below(const xmlNode *el) {
    for (const xmlNode *c = el->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        const char *name = (const char *)c->name;
        if (name && name[0] == 't' && name[1] == 'a' && c->ns == NULL && strcmp(name, "table") == 0) return 1;
        if (c->children && has_table_below(c)) return 1;
    }
    return 0;
}

static void walk(W *w, const xmlNode *el, int depth);

/* html._Renderer.inline_text written at the output's end, "|" as "/" when pipes. */
static void inline_text(W *w, const xmlNode *el, int depth, int pipes) {
    long start = w->pos;
    if (!has_children(el) && kind_of(el) == TD) {
        for (const xmlNode *c = el->children; c && !w->status; c = c->next) {
            if (!known_child(w, c)) return;
            if (is_text(c) && c->content) put(w, (const char *)c->content, (long)strlen((const char *)c->content));
        }
    } else {
        walk(w, el, depth);
    }
    if (w->status) return;
    w->pos = start + squash(w->out + start, w->out + start, w->pos - start, pipes);
}

/* One <tr> of html._Renderer.table: a line of cells, or (a layout table) its cells as blocks.
 * _Renderer asks whether the table has a table below it at all, then whether a cell of the row
 * does; only a cell with elements inside can hold one, so asking those cells is the same test. */
static void row(W *w, const xmlNode *tr, int cell_depth, int *after_row) {
    int layout = 0;
    for (const xmlNode *cell = tr->children; cell; cell = cell->next) {
        if (!known_child(w, cell)) return;
        if (cell->type != XML_ELEMENT_NODE) continue;
        int k = kind_of(cell);
        if (k == UNSUPPORTED) { w->status = UNSUPPORTED; return; }
        if (k == TD && !layout && has_children(cell) && has_table_below(cell)) layout = 1;
    }
    if (layout) { /* a layout table: its cells are blocks */
        for (const xmlNode *cell = tr->children; cell && !w->status; cell = cell->next) {
            if (cell->type == XML_ELEMENT_NODE && kind_of(cell) == TD) {
                walk(w, cell, cell_depth);
                put(w, "\n", 1);
            }
        }
        *after_row = 1;
        return;
    }
    long row_start = w->pos, fillers = 0;
    int cells = 0;
    if (*after_row) put(w, "\n", 1);
    for (const xmlNode *cell = tr->children; cell && !w->status; cell = cell->next) {
        if (cell->type != XML_ELEMENT_NODE || kind_of(cell) != TD) continue; /* not a cell */
        if (cells++) put(w, " | ", 3);
        if (!has_children(cell)) { /* a cell of plain text (most): its text nodes joined, squashed */
            const xmlNode *t = cell->children;
            if (t != NULL && t->next == NULL) {
                if (is_text(t) && t->content) put_squashed_z(w, (const char *)t->content, 1);
            } else if (t != NULL) {
                w->spos = 0;
                for (; t; t = t->next)
                    if (is_text(t) && t->content) put_scratch(w, (const char *)t->content, (long)strlen((const char *)t->content));
                put_squashed(w, w->scratch, w->spos, 1);
            }
        } else {
            inline_text(w, cell, cell_depth, 1);
        }
        if (cell->properties) fillers += fillers_of(w, attribute(w, cell, "colspan"));
    }
    if (w->status) return;
    if (cells == 0) {
        w->pos = row_start; /* no cells: no line */
        return;
    }
    for (long i = 0; i < fillers; i++) put(w, " | ", 3); /* as converters do: all fillers at the end */
    put(w, " |\n", 3);
    *after_row = 0; /* the next row's line starts right after this one's newline */
}

/* html._Renderer.table */
static void table(W *w, const xmlNode *tbl, int depth) {
    w->tables++;
    put(w, "\n", 1);
    for (const xmlNode *c = tbl->children; c && !w->status; c = c->next) {
        if (!known_child(w, c)) return;
        if (c->type != XML_ELEMENT_NODE) continue;
        int k = kind_of(c);
        if (k == UNSUPPORTED) { w->status = UNSUPPORTED; return; }
        if (k == CAPTION) {
            inline_text(w, c, depth + 1, 0);
            put(w, "\n", 1);
        }
    }
    int after_row = 1;
    /* the rows: the table's <tr> children and those of its <thead>, <tbody>, <tfoot> */
    for (const xmlNode *c = tbl->children; c && !w->status; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        int k = kind_of(c);
        if (k == TR) {
            row(w, c, depth + 1, &after_row);
        } else if (k == SECTION) {
            for (const xmlNode *s = c->children; s && !w->status; s = s->next) {
                if (s->type != XML_ELEMENT_NODE) continue;
                int sk = kind_of(s);
                if (sk == UNSUPPORTED) { w->status = UNSUPPORTED; return; }
                if (sk == TR) row(w, s, depth + 1, &after_row);
            }
        }
    }
    put(w, "\n", 1);
}

/* html._Renderer.walk: el's content, not its tail. */
static void walk(W *w, const xmlNode *el, int depth) {
    if (w->status) return;
    if (depth > DEPTH_LIMIT) { w->status = UNSUPPORTED; return; }
    int k = kind_of(el);
    switch (k) {
    case UNSUPPORTED: w->status = UNSUPPORTED; return;
    case SKIP: return;
    case IMG: w->images++; return;
    case BR: put(w, "\n", 1); return;
    case SUP: { /* a footnote reference: glued to a number ("44<sup>1</sup>") it would be a digit */
        w->spos = 0;
        text_content(w, el, depth);
        if (w->status) return;
        const unsigned char *s = (const unsigned char *)w->scratch, *end = s + w->spos;
        long chars = 0, pending = 0; /* code points of the stripped text: spaces count once followed */
        while (s < end) {
            int sp = space_at(s, end);
            if (sp) { if (chars) pending++; s += sp; continue; }
            chars += pending + 1;
            pending = 0;
            s++;
            while (s < end && (*s & 0xc0) == 0x80) s++;
        }
        if (chars <= 3) { put(w, "*", 1); return; }
        break;
    }
    case A: {
        const char *href = attribute(w, el, "href");
        if (w->status) return;
        put_link(w, href ? href : "", href ? (long)strlen(href) : 0);
        w->spos = 0;
        text_content(w, el, depth);
        if (w->status) return;
        if (w->lpos + w->spos + 1 > w->lcap) { w->status = TOO_SMALL; return; }
        w->lpos += squash(w->links + w->lpos, w->scratch, w->spos, 0);
        w->links[w->lpos++] = '\0';
        break;
    }
    case TABLE: table(w, el, depth); return;
    }
    int block = k == BLOCK || k == TR || k == CAPTION;
    if (block) put(w, "\n", 1);
    for (const xmlNode *c = el->children; c && !w->status; c = c->next) {
        if (!known_child(w, c)) return;
        if (is_text(c)) {
            if (c->content) put(w, (const char *)c->content, (long)strlen((const char *)c->content));
        } else if (c->type == XML_ELEMENT_NODE) {
            walk(w, c, depth + 1);
        }
    }
    if (block) put(w, "\n", 1);
}

/* The first element named `name` below el, in document order (lxml's
 * next(el.iterdescendants(name), None)); UNSUPPORTED status for a namespaced element met. */
static const xmlNode *first_below(W *w, const xmlNode *el, const char *name, int depth) {
    if (depth > DEPTH_LIMIT) { w->status = UNSUPPORTED; return NULL; }
    for (const xmlNode *c = el->children; c && !w->status; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (c->ns != NULL || c->name == NULL) { w->status = UNSUPPORTED; return NULL; }
        if (strcmp((const char *)c->name, name) == 0) return c;
        const xmlNode *found = c->children ? first_below(w, c, name, depth + 1) : NULL;
        if (found) return found;
    }
    return NULL;
}

/* html._collapse_blank_lines(text).strip() in place: each run of whitespace holding two
 * newlines or more (the regex \n\s*\n, greedy), from the spaces and tabs before its first
 * newline (back to the previous run's end) to its last newline, becomes one newline; then
 * the whitespace at both ends goes. Returns the new length. */
static long collapse_and_strip(char *text, long n) {
    const unsigned char *t = (const unsigned char *)text, *end = t + n;
    long read = 0, write = 0, floor = 0;
    while (read < n) {
        if (text[read] == '\n') {
            long last_newline = read, k = read;
            int sp;
            while (k < n && (sp = space_at(t + k, end)) != 0) {
                if (text[k] == '\n') last_newline = k;
                k += sp;
            }
            if (last_newline > read) {
                while (write > floor && (text[write - 1] == ' ' || text[write - 1] == '\t')) write--;
                text[write++] = '\n';
                read = last_newline + 1;
                floor = write;
                continue;
            }
        }
        text[write++] = text[read++];
    }
    /* strip(): the first character that is not whitespace, and the end of the last one */
    long first = -1, last_end = 0, k = 0;
    while (k < write) {
        int sp = space_at(t + k, t + write);
        if (sp) { k += sp; continue; }
        if (first < 0) first = k;
        k++;
        while (k < write && (t[k] & 0xc0) == 0x80) k++;
        last_end = k;
    }
    if (first < 0) return 0;
    memmove(text, text + first, last_end - first);
    return last_end - first;
}

/* html.html_to_text after lxml's parse, for the root element whose lxml proxy is at `element`
 * (its xmlNode pointer at `node_offset`): the page's text (the <body>, or the root without one,
 * rendered, its blank lines collapsed, stripped) to out; to links, the <title>'s squashed text
 * and then, for each <a>, its href and squashed text (each ending in a NUL); counts[0..3] =
 * images, tables, bytes of links, the title's length (-1: no <title>). Returns the text's
 * length, -1 (Python renders this page) or -2 (an output buffer too small: call again with
 * larger ones). */
long htmltext_page(intptr_t element, long node_offset, char *out, long cap, char *links, long links_cap,
                   long *counts) {
    const xmlNode *root = *(const xmlNode *const *)(element + node_offset);
    if (root == NULL || root->_private != (void *)element || root->type != XML_ELEMENT_NODE) return UNSUPPORTED;
    W w = {out, 0, cap, links, 0, links_cap, NULL, 0, 0, 0, 0, 0};
    counts[3] = -1;
    const xmlNode *title = first_below(&w, root, "title", 0);
    if (title != NULL && !w.status) {
        text_content(&w, title, 0);
        if (!w.status) {
            if (w.spos + 1 > w.lcap) {
                w.status = TOO_SMALL;
            } else {
                counts[3] = w.lpos = squash(w.links, w.scratch, w.spos, 0);
            }
        }
    }
    const xmlNode *body = w.status ? NULL : first_below(&w, root, "body", 0);
    if (!w.status) walk(&w, body != NULL ? body : root, 0);
    free(w.scratch);
    if (w.status) return w.status;
    counts[0] = w.images;
    counts[1] = w.tables;
    counts[2] = w.lpos;
    return collapse_and_strip(out, w.pos);
}
