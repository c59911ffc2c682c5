/* PDFium's per-character and per-segment calls made from C (optional; transforms/pdfobjects.py).
 *
 * Python passes the addresses of PDFium's own functions (pypdfium2.raw), the text page or page
 * object handles and output arrays; each function below makes the same calls as the Python
 * fallback's `map` over the characters or segments, in a loop, and stores what PDFium returns
 * unchanged (the same doubles and floats), so the values are the fallback's to the last bit.
 * No Python API and no link against PDFium: a plain shared library loaded with cffi's ABI mode.
 * Build: cc -O2 -shared -fPIC -o transforms/_pdfcalls.so transforms/_pdfcalls.c (make does it).
 * Handles and addresses are passed as intptr_t, as the Python side holds them. */
#include <stdint.h>

/* pdfobjects._CALLS_VERSION: changed with any signature below, so a stale build is not loaded */
#define PDFCALLS_VERSION 2

typedef intptr_t H;
typedef int (*int_of_index)(H, int);
typedef H (*handle_of_index)(H, int);
typedef H (*handle_of_ulong)(H, unsigned long);
typedef int (*int_of_handle)(H);
typedef H (*handle_of_handle)(H);
typedef int (*origin_fn)(H, int, double *, double *);
typedef int (*into_fn)(H, int, void *);
typedef double (*double_of_index)(H, int);
typedef int (*point_fn)(H, float *, float *);
typedef int (*into_fn2)(H, void *);

int pdfcalls_version(void) { return PDFCALLS_VERSION; }

/* The characters kept (a code above U+0020, or one PDFium did not generate itself), with their
 * text object, origin, loose box (FS_RECTF: 4 floats) and Unicode-map error. Returns how many
 * were kept: the first `kept` entries of each output are filled. */
int pdfcalls_chars(H is_generated, H text_object, H char_origin, H loose_box, H map_error,
                   H tp, int n, const uint32_t *codes, int32_t *keep, H *objects,
                   double *origins, float *boxes, int32_t *unmapped) {
    int k = 0;
    for (int i = 0; i < n; i++)
        if (codes[i] > 0x20 || !((int_of_index)is_generated)(tp, i))
            keep[k++] = i;
    for (int j = 0; j < k; j++) {
        int i = keep[j];
        objects[j] = ((handle_of_index)text_object)(tp, i);
        ((origin_fn)char_origin)(tp, i, origins + 2 * j, origins + 2 * j + 1);
        ((into_fn)loose_box)(tp, i, boxes + 4 * j);
        unmapped[j] = ((int_of_index)map_error)(tp, i);
    }
    return k;
}

/* Each asked character's font size and matrix (FS_MATRIX: 6 floats), and each given text
 * object's font. */
void pdfcalls_text_facts(H font_size, H get_matrix, H object_font, H tp, int n, const int32_t *asked,
                         double *sizes, float *matrices, int m, const H *font_objects, H *fonts) {
    for (int j = 0; j < n; j++) {
        sizes[j] = ((double_of_index)font_size)(tp, asked[j]);
        ((into_fn)get_matrix)(tp, asked[j], matrices + 6 * j);
    }
    for (int j = 0; j < m; j++)
        fonts[j] = ((handle_of_handle)object_font)(font_objects[j]);
}

/* A page's or form's `n` objects with their type and number of content marks, and the matrix
 * (FS_MATRIX: 6 floats) of each path and form object (`path_type`, `form_type`), asked into
 * `m` (the page's one matrix, as the Python fallback asks it) and copied from there; the other
 * objects' six entries are left as they are. `ulong_index`: the getter takes an unsigned long
 * index (FPDFFormObj_GetObject), not an int. */
void pdfcalls_objects(H get_object, int ulong_index, H object_type, H count_marks, H get_matrix, int path_type,
                      int form_type, H parent, int n, H *objects, int32_t *types, int32_t *marks, float *m,
                      float *matrices) {
    for (int i = 0; i < n; i++) {
        H obj = ulong_index ? ((handle_of_ulong)get_object)(parent, (unsigned long)i)
                            : ((handle_of_index)get_object)(parent, i);
        objects[i] = obj;
        types[i] = ((int_of_handle)object_type)(obj);
        marks[i] = ((int_of_handle)count_marks)(obj);
        if (types[i] == path_type || types[i] == form_type) {
            ((into_fn2)get_matrix)(obj, m);
            for (int k = 0; k < 6; k++)
                matrices[6 * i + k] = m[k];
        }
    }
}

/* Each path's number of segments (a negative count as 0); returns their sum. */
long pdfcalls_segment_counts(H count_segments, int n, const H *paths, int32_t *counts) {
    long total = 0;
    for (int i = 0; i < n; i++) {
        int c = ((int_of_handle)count_segments)(paths[i]);
        counts[i] = c > 0 ? c : 0;
        total += counts[i];
    }
    return total;
}

/* Every segment's point (2 floats), type and close flag, path after path. */
void pdfcalls_segments(H get_segment, H segment_point, H segment_type, H segment_closes, int n,
                       const H *paths, const int32_t *counts, float *points, int32_t *kinds,
                       int32_t *closes) {
    long s = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < counts[i]; j++, s++) {
            H seg = ((handle_of_index)get_segment)(paths[i], j);
            ((point_fn)segment_point)(seg, points + 2 * s, points + 2 * s + 1);
            kinds[s] = ((int_of_handle)segment_type)(seg);
            closes[s] = ((int_of_handle)segment_closes)(seg);
        }
}
