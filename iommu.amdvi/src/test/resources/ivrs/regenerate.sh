#!/bin/sh
# Recompiles the IVRS test tables from their sources: iasl (apt-get install
# acpica-tools) where it knows the table's blocks, else the project's own
# compiler of the same language (IvrsDsl.java), which IvrsDslTest holds to
# iasl's output byte for byte. Run from anywhere; writes NAME.aml beside NAME.dsl.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
compiler="$here/../../java/iommu/amdvi/IvrsDsl.java"
command -v iasl >/dev/null || { echo "iasl missing: apt-get install -y acpica-tools" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for dsl in "$here"/*.dsl; do
    name=$(basename "$dsl" .dsl)
    cp "$dsl" "$tmp/$name.dsl"
    if (cd "$tmp" && iasl -p "$name" "$name.dsl" >"$tmp/$name.log" 2>&1); then
        cp "$tmp/$name.aml" "$here/$name.aml"
        echo "$name.aml: iasl"
    else
        java "$compiler" "$dsl" "$here/$name.aml"
        echo "$name.aml: IvrsDsl.java (iasl: $(grep -m1 -i 'error' "$tmp/$name.log" | tr -s ' '))"
    fi
done
