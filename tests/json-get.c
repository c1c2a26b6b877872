/* SPDX-License-Identifier: MIT */
/*
 * json-get: one value out of a JSON document, for shell tests that check
 * --json output (tests/ctl-create.sh).  The document is parsed whole with
 * libyajl, so an invalid one fails the test rather than matching a grep.
 *
 *   json-get FILE [STEP...]       print the value at the path
 *   json-get -n FILE [STEP...]    print how many members or elements
 *
 * A STEP is an object key, an array index, or KEY=VALUE: the first
 * element of an array whose member KEY prints as VALUE (devid=3).
 * Strings print raw,
 * numbers as written, true/false/null as words, an object or array as
 * "object"/"array".  Exit 1 when the document is invalid or the path
 * leads nowhere, 2 on a usage error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl_tree.h>

static char *slurp(const char *file)
{
    FILE *f = fopen(file, "r");
    size_t n = 0, cap = 65536;
    char *buf = malloc(cap);

    while (f && buf && !feof(f) && !ferror(f)) {
        if (cap - n < 2) {
            char *more = realloc(buf, cap *= 2);

            if (!more)
                break;
            buf = more;
        }
        n += fread(buf + n, 1, cap - n - 1, f);
    }
    if (!f || !buf || !feof(f)) {
        free(buf);
        buf = NULL;
    } else {
        buf[n] = '\0';
    }
    if (f)
        fclose(f);
    return buf;
}

/* A scalar as print() shows it, for KEY=VALUE steps. */
static const char *scalar(yajl_val v)
{
    if (YAJL_IS_STRING(v))
        return YAJL_GET_STRING(v);
    if (YAJL_IS_NUMBER(v))
        return YAJL_GET_NUMBER(v);
    return YAJL_IS_TRUE(v) ? "true" : YAJL_IS_FALSE(v) ? "false" :
           YAJL_IS_NULL(v) ? "null" : NULL;
}

static yajl_val member(yajl_val v, const char *key)
{
    for (size_t k = 0; YAJL_IS_OBJECT(v) && k < v->u.object.len; k++)
        if (!strcmp(v->u.object.keys[k], key))
            return v->u.object.values[k];
    return NULL;
}

/* The first element of array @v whose member KEY is VALUE (@kv). */
static yajl_val select_element(yajl_val v, const char *kv)
{
    const char *eq = strchr(kv, '=');
    char key[128];

    if ((size_t)(eq - kv) >= sizeof(key))
        return NULL;
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    for (size_t i = 0; i < v->u.array.len; i++) {
        const char *s = scalar(member(v->u.array.values[i], key));

        if (s && !strcmp(s, eq + 1))
            return v->u.array.values[i];
    }
    return NULL;
}

static yajl_val step(yajl_val v, const char *s)
{
    char *end;
    unsigned long i;

    if (YAJL_IS_OBJECT(v))
        return member(v, s);
    if (!YAJL_IS_ARRAY(v))
        return NULL;
    if (strchr(s, '='))
        return select_element(v, s);
    i = strtoul(s, &end, 10);
    return *s && !*end && i < v->u.array.len ? v->u.array.values[i] : NULL;
}

static void print(yajl_val v, int count)
{
    if (count)
        printf("%zu\n", YAJL_IS_OBJECT(v) ? v->u.object.len :
                        YAJL_IS_ARRAY(v) ? v->u.array.len : 0);
    else if (YAJL_IS_STRING(v))
        printf("%s\n", YAJL_GET_STRING(v));
    else if (YAJL_IS_NUMBER(v))
        printf("%s\n", YAJL_GET_NUMBER(v));
    else
        puts(YAJL_IS_OBJECT(v) ? "object" : YAJL_IS_ARRAY(v) ? "array" :
             YAJL_IS_TRUE(v) ? "true" : YAJL_IS_FALSE(v) ? "false" : "null");
}

int main(int argc, char **argv)
{
    int count = argc > 1 && !strcmp(argv[1], "-n"), first = 1 + count;
    char err[256], *text;
    yajl_val root, v;

    if (argc <= first) {
        fprintf(stderr, "usage: json-get [-n] FILE [STEP...]\n");
        return 2;
    }
    text = slurp(argv[first]);
    if (!text) {
        fprintf(stderr, "json-get: cannot read %s\n", argv[first]);
        return 1;
    }
    root = yajl_tree_parse(text, err, sizeof(err));
    free(text);
    if (!root) {
        fprintf(stderr, "json-get: %s: %s\n", argv[first], err);
        return 1;
    }
    v = root;
    for (int i = first + 1; v && i < argc; i++)
        v = step(v, argv[i]);
    if (v)
        print(v, count);
    else
        fprintf(stderr, "json-get: %s: nothing at that path\n", argv[first]);
    yajl_tree_free(root);
    return v ? 0 : 1;
}
