#!/usr/bin/env bash
# Recompiles iommu.vtd's DMAR sources with iasl (Debian acpica-tools) and
# compares each result with the binary committed beside its source:
#   iommu.vtd/src/test/resources/dmar/*.dsl              -> *.dat beside them
#   iommu.vtd/src/main/resources/iommu/vtd/default-platform.dsl -> default-platform.dat
#
# Usage: regenerate.sh           compare (exit 1 when a binary differs)
#        regenerate.sh --write   overwrite the committed binaries
# Exit 2 when iasl is missing: the Maven build never needs it, CI may run this
# script when iasl is present (apt-get install -y acpica-tools).
#
# iasl writes its own compiler id and revision into bytes 28..35 (and so into
# the checksum at 9): binaries that differ only there come from another iasl
# version and count as the same table.
#
# Subtable types an iasl does not know (5, SATC, before ACPICA 2021; 6 in
# every iasl) share the ATSR layout: such a source is compiled from a copy
# whose unknown types read 0002, then the types the source names are written
# back into the binary and its checksum is fixed.
set -euo pipefail

write=false
case "${1:-}" in
    --write) write=true ;;
    "") ;;
    *) echo "usage: $0 [--write]" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
module=$(cd "$here/../../../.." && pwd)
if ! command -v iasl >/dev/null 2>&1; then
    echo "regenerate.sh: iasl not found: expected Debian acpica-tools (apt-get install -y acpica-tools)" >&2
    exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bytes() { od -An -tu1 -v "$1" | tr -s ' \n' '\n\n' | sed '/^$/d'; }

put_byte() { # file offset value
    printf "\\$(printf '%03o' "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

fix_checksum() {
    local file=$1 sum=0 i=0 b
    while read -r b; do
        [ "$i" -ne 9 ] && sum=$((sum + b))
        i=$((i + 1))
    done < <(bytes "$file")
    put_byte "$file" 9 $(((256 - sum % 256) % 256))
}

# Writes the subtable types the source names into the binary, in order.
patch_types() {
    local dsl=$1 bin=$2 offset=48 type
    local -a b
    mapfile -t b < <(bytes "$bin")
    while read -r type; do
        local want=$((16#$type)) have=$((b[offset] | b[offset + 1] << 8)) length=$((b[offset + 2] | b[offset + 3] << 8))
        if [ "$want" -ne "$have" ]; then
            put_byte "$bin" "$offset" $((want & 255))
            put_byte "$bin" $((offset + 1)) $((want >> 8))
        fi
        offset=$((offset + length))
    done < <(sed -n 's/^\[0002\][[:space:]]*Subtable Type : \([0-9A-Fa-f]\{4\}\).*/\1/p' "$dsl")
    fix_checksum "$bin"
}

compile() { # dsl out
    local dsl=$1 out=$2 name
    name=$(basename "$dsl" .dsl)
    cp "$dsl" "$work/$name.dsl"
    if timeout 60 iasl -p "$work/$name" "$work/$name.dsl" </dev/null >"$work/$name.log" 2>&1; then
        cp "$work/$name.aml" "$out"
        return 0
    fi
    if ! grep -q "Unknown subtable type" "$work/$name.log"; then
        cat "$work/$name.log" >&2
        echo "regenerate.sh: iasl failed on $dsl" >&2
        return 1
    fi
    sed -E 's/^(\[0002\][[:space:]]*Subtable Type : )0*([5-9A-Fa-f]|[1-9A-Fa-f][0-9A-Fa-f]+)\b/\10002/' \
        "$dsl" >"$work/$name.dsl"
    if ! timeout 60 iasl -p "$work/$name" "$work/$name.dsl" </dev/null >"$work/$name.log" 2>&1; then
        cat "$work/$name.log" >&2
        echo "regenerate.sh: iasl failed on $dsl, even with its unknown subtable types compiled as ATSRs" >&2
        return 1
    fi
    cp "$work/$name.aml" "$out"
    patch_types "$dsl" "$out"
    echo "  $(basename "$dsl"): subtable types unknown to this iasl compiled as ATSRs, then patched back"
}

# Same table, apart from the compiler id and revision (28..35) and the checksum (9)?
same_table() {
    local -a a b
    mapfile -t a < <(bytes "$1")
    mapfile -t b < <(bytes "$2")
    [ "${#a[@]}" -eq "${#b[@]}" ] || return 1
    local i
    for ((i = 0; i < ${#a[@]}; i++)); do
        if [ "$i" -ne 9 ] && { [ "$i" -lt 28 ] || [ "$i" -gt 35 ]; } && [ "${a[i]}" -ne "${b[i]}" ]; then
            printf '  first difference at offset 0x%x: 0x%02x committed, 0x%02x compiled\n' "$i" "${a[i]}" "${b[i]}" >&2
            return 1
        fi
    done
}

echo "regenerate.sh: $(iasl -v 2>/dev/null | grep -m1 -i version || echo iasl)"
failed=0
for dsl in "$here"/*.dsl "$module/src/main/resources/iommu/vtd/default-platform.dsl"; do
    committed="${dsl%.dsl}.dat"
    compiled="$work/$(basename "$dsl" .dsl).dat"
    if ! compile "$dsl" "$compiled"; then
        failed=1
        continue
    fi
    if $write; then
        cp "$compiled" "$committed"
        echo "  wrote ${committed#"$module"/}"
    elif [ ! -f "$committed" ]; then
        echo "  MISSING ${committed#"$module"/}: expected it committed beside its source (run with --write)"
        failed=1
    elif cmp -s "$compiled" "$committed"; then
        echo "  same    ${committed#"$module"/}"
    elif same_table "$committed" "$compiled"; then
        echo "  same    ${committed#"$module"/} (but for the compiler id and revision of another iasl)"
    else
        echo "  DIFFERS ${committed#"$module"/}: expected the committed binary to be what iasl makes of its source"
        failed=1
    fi
done
exit $failed
