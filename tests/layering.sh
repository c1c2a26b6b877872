#!/bin/sh
# SPDX-License-Identifier: MIT
#
# layering: inside each component, every call between files runs downward.
#
# A file "calls" another when its object file needs (nm -u) a symbol the
# other defines (nm --defined-only, global).  For each component the
# objects form a graph; the test fails when that graph has a cycle, and
# prints each cycle with the symbols on its edges.  A cycle means two
# files each depend on the other, so neither can be read, tested or
# replaced on its own: one layer per file is the rule (docs/testing.md).
#
# The components are the object lists automake builds them from, passed
# by `make check` (Makefile.am):
#   LAYER_BACKEND   pvacceld
#   LAYER_ENGINE    libpvaengine (backend/engine.c, backend/engines/)
#   LAYER_FRONTEND  libpvaccel
#   LAYER_PLATFORM  libpvaplatform
#   LAYER_TOOLSTACK pvaccel-ctl (tools/ctl.h lists its layers)
# Object paths are relative to top_builddir; a libtool .lo names its
# object inside.
#
# Needs: nm (binutils), top_builddir.

builddir=${top_builddir:-.}
NM=${NM:-nm}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/layering.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

# The real object behind an automake object name (.o, or a libtool .lo).
object_of() {
    case $1 in
    *.lo)
        dir=$(dirname "$1")
        pic=$(sed -n "s/^pic_object='\(.*\)'$/\1/p" "$builddir/$1")
        nonpic=$(sed -n "s/^non_pic_object='\(.*\)'$/\1/p" "$builddir/$1")
        if [ -n "$pic" ] && [ "$pic" != none ]; then
            echo "$builddir/$dir/$pic"
        else
            echo "$builddir/$dir/$nonpic"
        fi ;;
    *)  echo "$builddir/$1" ;;
    esac
}

# The source a object was built from, for messages: backend/queue.c.
source_of() {
    dir=$(dirname "$1")
    base=$(basename "$1")
    base=${base%.lo}
    base=${base%.o}
    base=${base#*-}             # per-target prefix: libpvaccel_la-
    echo "$dir/$base.c"
}

# check NAME OBJECTS...: 0 when the component's call graph is acyclic.
check() {
    name=$1
    shift
    if [ $# -eq 0 ]; then
        echo "layering: $name: no objects given" >&2
        return 1
    fi
    : >"$tmp/defs"
    : >"$tmp/uses"
    for o in "$@"; do
        obj=$(object_of "$o")
        src=$(source_of "$o")
        if [ ! -f "$obj" ]; then
            echo "layering: $name: $obj is missing (build first)" >&2
            return 1
        fi
        # $NM may carry flags (libtool's "nm -B"): split it.
        if ! $NM -g --defined-only "$obj" >"$tmp/nm.def" ||
           ! $NM -u "$obj" >"$tmp/nm.und"; then
            echo "layering: $name: $NM failed on $obj" >&2
            return 1
        fi
        awk -v f="$src" 'NF >= 3 { print $3, f }' "$tmp/nm.def" >>"$tmp/defs"
        awk -v f="$src" '{ print f, $NF }' "$tmp/nm.und" >>"$tmp/uses"
    done
    # Edges "from to symbol", then a depth-first search for back edges.
    awk 'NR == FNR { def[$1] = $2; next }
         ($2 in def) && def[$2] != $1 { print $1, def[$2], $2 }' \
        "$tmp/defs" "$tmp/uses" | sort -u >"$tmp/edges"
    # Files of one component call each other: no edge means nothing was read.
    if [ $# -gt 1 ] && [ ! -s "$tmp/edges" ]; then
        echo "layering: $name: no calls between its $# files found" >&2
        return 1
    fi
    awk -v comp="$name" '
        {
            key = $1 SUBSEP $2
            if (!(key in sym)) {
                sym[key] = $3
                adj[$1] = adj[$1] " " $2
                nodes[$1] = 1
                nodes[$2] = 1
            } else if (length(sym[key]) < 60)
                sym[key] = sym[key] ", " $3
        }
        function visit(n,   i, m, k, next_nodes, path) {
            colour[n] = 1
            stack[++depth] = n
            k = split(adj[n], next_nodes, " ")
            for (i = 1; i <= k; i++) {
                m = next_nodes[i]
                if (colour[m] == 1) {
                    path = ""
                    for (j = depth; j >= 1 && stack[j] != m; j--)
                        ;
                    for (; j < depth; j++)
                        path = path sprintf("  %s -> %s (%s)\n", stack[j],
                                            stack[j + 1],
                                            sym[stack[j], stack[j + 1]])
                    path = path sprintf("  %s -> %s (%s)\n", n, m, sym[n, m])
                    printf "layering: %s: files call each other:\n%s",
                           comp, path
                    cycles++
                } else if (colour[m] == 0)
                    visit(m)
            }
            depth--
            colour[n] = 2
        }
        END {
            for (n in nodes)
                if (colour[n] == 0)
                    visit(n)
            exit cycles > 0
        }' "$tmp/edges"
}

failed=0
for comp in BACKEND ENGINE FRONTEND PLATFORM TOOLSTACK; do
    eval "objs=\${LAYER_$comp-}"
    name=$(echo "$comp" | tr 'A-Z' 'a-z')
    # shellcheck disable=SC2086 # a list of object names
    if check "$name" $objs; then
        echo "ok: $name: every call between its files runs downward"
    else
        failed=1
    fi
done
exit $failed
