/* json_doc: strict RFC 8259 (every invalid form refused with an offset), packed numeric
 * arrays (shape, raggedness, rank), overflow and underflow, duplicate keys, limits. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_doc.h"
#include "mem.h"

static json_status parse(const char *text, json_doc *d, json_error *e)
{
    return json_doc_parse(d, text, strlen(text), NULL, e);
}

static void expect_invalid(const char *text)
{
    json_doc d;
    json_error e;
    cr_assert_eq(parse(text, &d, &e), JSON_ERR_SYNTAX, "refuses %s", text);
    cr_assert(e.message[0] != '\0');
    json_doc_release(&d);
}

static void expect_valid(const char *text)
{
    json_doc d;
    json_error e;
    cr_assert_eq(parse(text, &d, &e), JSON_OK, "accepts %s: %s", text, e.message);
    json_doc_release(&d);
}

Test(json_doc, non_rfc_numbers_should_be_refused)
{
    const char *bad[] = {"NaN",     "Infinity", "-Infinity",   "+1",         "01",
                         ".5",      "0x10",     "1.",          ".e",         "1e",
                         "1e+",     "-",        "--1",         "1.e5",       "[NaN]",
                         "[+1]",    "[01]",     "[.5]",        "[0x10]",     "[1.]",
                         "[1e]",    "[-]",      "[1,2,01]",    "[[1],[.5]]", "[1.5.2]",
                         "[1e5e5]", "[1-2]",    "{\"a\": 01}", "[Infinity]", "[-Infinity]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_invalid(bad[i]);
}

Test(json_doc, rfc_numbers_should_be_accepted)
{
    const char *good[] = {"0",
                          "-0",
                          "1",
                          "-1.5",
                          "1e5",
                          "1E+5",
                          "1e-5",
                          "0.5e10",
                          "123456789012345678901234567890",
                          "[0, -0.0, 1e0, 2E-3]"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        expect_valid(good[i]);
}

Test(json_doc, bad_structure_and_trailing_garbage_should_be_refused)
{
    const char *bad[] = {"",          " ",
                         "{",         "[",
                         "[1,",       "[1,]",
                         "[,1]",      "{\"a\":1,}",
                         "{\"a\" 1}", "{a:1}",
                         "{'a':1}",   "[1 2]",
                         "{} {}",     "[1]]",
                         "[1] x",     "tru",
                         "nul",       "True",
                         "\"abc",     "[\"a\",]",
                         "{\"a\":}",  "\xEF\xBB\xBF{}",
                         "//\n{}",    "[1]]]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_invalid(bad[i]);
    json_doc d;
    json_error e;
    cr_assert_eq(json_doc_parse(&d, "[1]\0", 4, NULL, &e), JSON_ERR_SYNTAX);
    cr_assert_eq(e.offset, 3);
}

Test(json_doc, whitespace_around_values_should_be_accepted)
{
    expect_valid(" \t\r\n{ \"a\" : [ 1 , [ 2 ] , \"x\" ] , \"b\" : null } \n");
}

Test(json_doc, strings_should_decode_escapes_and_surrogate_pairs)
{
    json_doc d;
    json_error e;
    const char *text = "[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\\ud83d\\ude00\","
                       " \"caf\xC3\xA9\"]";
    cr_assert_eq(parse(text, &d, &e), JSON_OK, "%s", e.message);
    const json_node *items = d.root.u.arr.items;
    cr_assert_eq(d.root.kind, JSON_ARRAY);
    cr_assert_eq(items[0].u.str.len, 12);
    cr_assert(memcmp(items[0].u.str.ptr, "a\"b\\c/d\b\f\n\r\t", 12) == 0);
    const char *want = "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
    cr_assert_eq(items[1].u.str.len, strlen(want));
    cr_assert(memcmp(items[1].u.str.ptr, want, strlen(want)) == 0);
    cr_assert(memcmp(items[2].u.str.ptr, "caf\xC3\xA9", 5) == 0);
    json_doc_release(&d);
}

Test(json_doc, bad_strings_should_be_refused)
{
    const char *bad[] = {"\"a\nb\"",
                         "\"\t\"",
                         "\"\\x\"",
                         "\"\\u12\"",
                         "\"\\u12G4\"",
                         "\"\\ud83d\"",
                         "\"\\ud83dx\"",
                         "\"\\ude00\"",
                         "\"\\ud83d\\u0041\"",
                         "\"\xC3\"",
                         "\"\xC0\x80\"",
                         "\"\xED\xA0\x80\"",
                         "\"\xF4\x90\x80\x80\"",
                         "\"\xFF\"",
                         "\"\x80\"",
                         "\"\xE2\x82\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_invalid(bad[i]);
    expect_valid("\"\\u0000\"");
}

Test(json_doc, duplicate_keys_should_be_refused_in_small_and_large_objects)
{
    expect_invalid("{\"a\":1,\"b\":2,\"a\":3}");
    expect_invalid("{\"x\":{\"k\":1,\"k\":1}}");
    expect_invalid("{\"\\u0061\":1,\"a\":2}");
    char big[4096];
    size_t n = (size_t)snprintf(big, sizeof big, "{");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "\"k%d\":%d,", i, i);
    snprintf(big + n, sizeof big - n, "\"kz\":0}");
    expect_valid(big);
    snprintf(big + n, sizeof big - n, "\"k57\":0}");
    expect_invalid(big);
}

static const json_packed *packed_root(const char *text, json_doc *d)
{
    json_error e;
    cr_assert_eq(parse(text, d, &e), JSON_OK, "%s: %s", text, e.message);
    cr_assert_eq(d->root.kind, JSON_PACKED, "%s is packed", text);
    return d->root.u.packed;
}

Test(json_doc, rectangular_numeric_arrays_should_be_packed_with_their_shape)
{
    json_doc d;
    const json_packed *p = packed_root("[[1, 2, 3], [4, 5, 6]]", &d);
    cr_assert_eq(p->rank, 2);
    cr_assert_eq(p->shape[0], 2);
    cr_assert_eq(p->shape[1], 3);
    cr_assert_eq(p->count, 6);
    for (size_t i = 0; i < 6; i++)
        cr_assert_eq(p->data[i], (double)(i + 1));
    cr_assert_eq((uintptr_t)p->data % 64, 0);
    json_doc_release(&d);
}

Test(json_doc, empty_arrays_should_be_packed_with_a_zero_dimension)
{
    json_doc d;
    const json_packed *p = packed_root("[]", &d);
    cr_assert_eq(p->rank, 1);
    cr_assert_eq(p->shape[0], 0);
    cr_assert_eq(p->count, 0);
    json_doc_release(&d);
    p = packed_root("[[], []]", &d);
    cr_assert_eq(p->rank, 2);
    cr_assert_eq(p->shape[0], 2);
    cr_assert_eq(p->shape[1], 0);
    json_doc_release(&d);
}

Test(json_doc, ragged_or_mixed_arrays_should_stay_as_nodes_for_the_decoder_to_judge)
{
    const char *texts[] = {"[[1, 2], [3]]", "[[1], 2]",  "[1, [2]]",      "[[[1]], []]",
                           "[1, \"a\"]",    "[1, true]", "[[1], [\"a\"]]"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        json_doc d;
        json_error e;
        cr_assert_eq(parse(texts[i], &d, &e), JSON_OK, "%s", texts[i]);
        cr_assert_eq(d.root.kind, JSON_ARRAY, "%s is not packed", texts[i]);
        json_doc_release(&d);
    }
}

Test(json_doc, the_rectangular_parts_of_a_ragged_array_should_still_be_packed)
{
    json_doc d;
    json_error e;
    cr_assert_eq(parse("[[1, 2], [3]]", &d, &e), JSON_OK);
    cr_assert_eq(d.root.u.arr.items[0].kind, JSON_PACKED);
    cr_assert_eq(d.root.u.arr.items[1].kind, JSON_PACKED);
    json_doc_release(&d);
}

Test(json_doc, arrays_deeper_than_rank_8_should_not_be_packed)
{
    json_doc d;
    json_error e;
    cr_assert_eq(parse("[[[[[[[[1]]]]]]]]", &d, &e), JSON_OK);
    cr_assert_eq(d.root.kind, JSON_PACKED);
    cr_assert_eq(d.root.u.packed->rank, 8);
    json_doc_release(&d);
    cr_assert_eq(parse("[[[[[[[[[1]]]]]]]]]", &d, &e), JSON_OK);
    cr_assert_eq(d.root.kind, JSON_ARRAY);
    cr_assert_eq(d.root.u.arr.items[0].kind, JSON_PACKED);
    json_doc_release(&d);
}

Test(json_doc, overflowing_numbers_should_be_flagged_and_underflow_should_be_zero)
{
    json_doc d;
    const json_packed *p = packed_root("[1, 1e-400, 1e400, -1e400]", &d);
    cr_assert_eq(p->first_overflow, 2);
    cr_assert_eq(p->data[1], 0.0);
    cr_assert(isinf(p->data[2]) && isinf(p->data[3]) && p->data[3] < 0);
    json_doc_release(&d);
    json_error e;
    cr_assert_eq(parse("{\"a\": 1e400, \"b\": 1e-400}", &d, &e), JSON_OK);
    cr_assert(d.root.u.obj.items[0].value.overflow);
    cr_assert(!d.root.u.obj.items[1].value.overflow);
    cr_assert_eq(d.root.u.obj.items[1].value.u.number, 0.0);
    json_doc_release(&d);
}

/* n nested arrays inside {"a": ...}: n + 1 levels in all. */
static void nested(char *buf, int n)
{
    size_t k = (size_t)sprintf(buf, "{\"a\":");
    for (int i = 0; i < n; i++)
        buf[k++] = '[';
    for (int i = 0; i < n; i++)
        buf[k++] = ']';
    strcpy(buf + k, "}");
}

Test(json_doc, nesting_beyond_the_limit_should_be_refused)
{
    char text[2 * JSON_MAX_DEPTH + 16];
    nested(text, JSON_MAX_DEPTH - 1);
    expect_valid(text);
    nested(text, JSON_MAX_DEPTH);
    expect_invalid(text);
}

Test(json_doc, errors_should_give_the_byte_offset)
{
    json_doc d;
    json_error e;
    cr_assert_eq(parse("{\"a\": [1, 2, x]}", &d, &e), JSON_ERR_SYNTAX);
    cr_assert_eq(e.offset, 13);
    cr_assert_eq(parse("{\"a\": 1, \"a\": 2}", &d, &e), JSON_ERR_SYNTAX);
    cr_assert(strstr(e.message, "duplicate key") != NULL, "%s", e.message);
}

Test(json_doc, a_duplicate_key_with_an_escaped_nul_is_named_whole)
{
    json_doc d;
    json_error e;
    cr_assert_eq(parse("{\"a\\u0000b\": 1, \"a\\u0000b\": 2}", &d, &e), JSON_ERR_SYNTAX);
    cr_assert(strstr(e.message, "duplicate key \"a\\u0000b\"") != NULL, "%s", e.message);
}

Test(json_doc, node_limit_should_refuse_huge_documents_of_small_values)
{
    json_doc d;
    json_error e;
    json_limits lim = {.max_nodes = 5, .max_memory = 0};
    const char *text = "[\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]";
    cr_assert_eq(json_doc_parse(&d, text, strlen(text), &lim, &e), JSON_ERR_LIMIT);
    text = "[1, 2, 3, 4, 5, 6, 7, 8, 9]"; /* packed: one node */
    cr_assert_eq(json_doc_parse(&d, text, strlen(text), &lim, &e), JSON_OK);
    json_doc_release(&d);
}

Test(json_doc, every_allocation_failure_should_end_in_a_clean_error)
{
    const char *text = "{\"p\": [[1, 2], [3, 4]], \"s\": \"\\u00e9\", \"l\": [1, \"x\", {\"k\": "
                       "[true, null]}], \"big\": {\"a0\":0,\"a1\":1,\"a2\":2,\"a3\":3,\"a4\":4,"
                       "\"a5\":5,\"a6\":6,\"a7\":7,\"a8\":8,\"a9\":9,\"b0\":0,\"b1\":1,\"b2\":2,"
                       "\"b3\":3,\"b4\":4,\"b5\":5,\"b6\":6,\"b7\":7}}";
    for (long n = 0; n < 64; n++) {
        json_doc d;
        json_error e;
        mem_fail_after(n);
        json_status st = parse(text, &d, &e);
        mem_fail_reset();
        cr_assert(st == JSON_OK || st == JSON_ERR_NOMEM, "n=%ld: %s", n, e.message);
        json_doc_release(&d);
    }
}

Test(json_doc, object_lookup_should_find_members_by_exact_key)
{
    json_doc d;
    json_error e;
    cr_assert_eq(parse("{\"Ab\": 1, \"ab\": 2}", &d, &e), JSON_OK);
    cr_assert_eq(json_object_get(&d.root, "ab", 2)->u.number, 2.0);
    cr_assert_eq(json_object_get(&d.root, "Ab", 2)->u.number, 1.0);
    cr_assert_null(json_object_get(&d.root, "AB", 2));
    json_doc_release(&d);
}

/* ---- incremental parsing: the same document and the same errors however it is split ---- */

/* Parses text fed in pieces cut at the given points (ascending, < len). */
static json_status parse_split(const char *text, size_t len, const size_t *cuts, size_t ncuts,
                               json_doc *doc, json_error *err)
{
    json_stream *s = json_stream_new(NULL);
    size_t from = 0;
    cr_assert(s != NULL);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        /* each piece in its own allocation, so nothing can point into an earlier one */
        char *piece = malloc(to - from + 1);
        memcpy(piece, text + from, to - from);
        json_stream_feed(s, piece, to - from);
        memset(piece, 'x', to - from);
        free(piece);
        from = to;
    }
    json_status st = json_stream_finish(s, doc);
    *err = *json_stream_error(s);
    json_stream_free(s);
    return st;
}

static void expect_split_invariant(const char *text)
{
    size_t len = strlen(text);
    json_doc whole, split;
    json_error ew, es;
    json_status sw = json_doc_parse(&whole, text, len, NULL, &ew);
    for (size_t cut = 0; cut <= len; cut++) {
        size_t cuts[1] = {cut};
        json_status ss = parse_split(text, len, cuts, 1, &split, &es);
        cr_assert_eq(ss, sw, "%s cut at %zu: %d vs %d (%s)", text, cut, ss, sw, es.message);
        if (sw == JSON_OK)
            cr_assert(json_node_same(&whole.root, &split.root), "%s cut at %zu", text, cut);
        else
            cr_assert_eq(es.offset, ew.offset, "%s cut at %zu: %s vs %s", text, cut, es.message,
                         ew.message);
        json_doc_release(&split);
    }
    size_t *every = malloc(len * sizeof *every);
    for (size_t i = 0; i + 1 < len; i++)
        every[i] = i + 1;
    json_status ss = parse_split(text, len, every, len ? len - 1 : 0, &split, &es);
    cr_assert_eq(ss, sw, "%s byte by byte", text);
    if (sw == JSON_OK)
        cr_assert(json_node_same(&whole.root, &split.root), "%s byte by byte", text);
    else
        cr_assert_eq(es.offset, ew.offset, "%s byte by byte: %s vs %s", text, es.message,
                     ew.message);
    free(every);
    json_doc_release(&split);
    json_doc_release(&whole);
}

Test(json_doc, a_document_split_anywhere_should_parse_to_the_same_nodes_and_errors)
{
    static const char *const texts[] = {
        "{\"predictions\": [[1.5, -2e-3], [3, 4]], \"targets\": [[0, 1], [1e400, 0]]}",
        "{\"s\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\\", \"t\": true, \"f\": false, \"n\": "
        "null}",
        "[[1, 2], [3]]",
        "[[1], 2]",
        "[1, [2]]",
        "[[[1]], []]",
        "[1, \"a\"]",
        "[[1], [\"a\"]]",
        "[[[[[[[[[1]]]]]]]]]",
        "[]",
        "[[], []]",
        "-0",
        "123456789012345678901234567890",
        "\"\\u00e9\"",
        "{\"a\": 1, \"a\": 2}",
        "{\"a\": [1, 2, x]}",
        "[1,]",
        "[1 2]",
        "{\"a\" 1}",
        "[tru]",
        "nul",
        "[\"abc",
        "[1.5e]",
        "[01]",
        "{\"a\":[[1,2],[3,4]],\"b\":{\"c\":[]}} x",
        "{\"k\": [\"\xc3\xa9\", \"\x01\"]}",
        "[\"\xff\"]",
        "  [ 1 , 2 ]  ",
        "{}",
        "[{}]",
        "{\"a\": {\"b\": {\"c\": [[[1, 2, 3]]]}}}",
        "[1e-400, -1e400]",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        expect_split_invariant(texts[i]);
}

Test(json_doc, a_large_array_should_be_packed_from_a_growing_mapping)
{
    size_t n = 300000, len = 0;
    char *text = malloc(n * 8 + 16);
    text[len++] = '[';
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, i ? ",%zu" : "%zu", i % 1000);
    text[len++] = ']';
    json_stream *s = json_stream_new(NULL);
    for (size_t at = 0; at < len; at += 16384)
        cr_assert_eq(json_stream_feed(s, text + at, len - at < 16384 ? len - at : 16384), JSON_OK);
    json_doc d;
    cr_assert_eq(json_stream_finish(s, &d), JSON_OK);
    json_stream_free(s);
    cr_assert_eq(d.root.kind, JSON_PACKED);
    cr_assert_eq(d.root.u.packed->count, n);
    cr_assert_eq((uintptr_t)d.root.u.packed->data % 64, 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(d.root.u.packed->data[i], (double)(i % 1000));
    json_doc_release(&d);
    free(text);
}

/* A ragged array costs one pass and at most the memory cap: 16 MB of [[1],[1],...,[1,2]]
 * once took 4.1 s and 1.07 GB to refuse. */
Test(json_doc, a_huge_ragged_array_should_stop_at_the_memory_cap)
{
    size_t rows = 2000000, len = 0;
    char *text = malloc(rows * 4 + 16);
    text[len++] = '[';
    for (size_t i = 0; i < rows; i++) {
        memcpy(text + len, i ? ",[1]" : "[1]", i ? 4 : 3);
        len += i ? 4 : 3;
    }
    len += (size_t)sprintf(text + len, ",[1,2]]");
    json_limits lim = {.max_nodes = 0, .max_memory = 4 * len + ((size_t)1 << 20)};
    json_doc d;
    json_error e;
    cr_assert_eq(json_doc_parse(&d, text, len, &lim, &e), JSON_ERR_LIMIT, "%s", e.message);
    cr_assert(strstr(e.message, "bytes of memory") != NULL, "%s", e.message);
    free(text);
}

Test(json_doc, every_allocation_failure_should_end_in_a_clean_error_when_streamed)
{
    const char *text = "{\"p\": [[1, 2], [3, 4]], \"s\": \"\\u00e9\", \"l\": [1, \"x\", {\"k\": "
                       "[true, null]}], \"r\": [[1], [2, 3]]}";
    for (long n = 0; n < 64; n++) {
        json_doc d;
        mem_fail_after(n);
        json_stream *s = json_stream_new(NULL);
        json_status st = JSON_ERR_NOMEM;
        if (s != NULL) {
            size_t len = strlen(text);
            for (size_t at = 0; at < len; at += 3)
                json_stream_feed(s, text + at, len - at < 3 ? len - at : 3);
            st = json_stream_finish(s, &d);
        }
        mem_fail_reset();
        cr_assert(st == JSON_OK || st == JSON_ERR_NOMEM, "n=%ld: %d %s", n, st,
                  s ? json_stream_error(s)->message : "");
        if (st == JSON_OK)
            json_doc_release(&d);
        json_stream_free(s);
    }
}
