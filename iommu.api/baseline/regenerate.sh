#!/bin/sh
# Rebuilds the API baseline jar from a git commit of this repository and files
# it as iommu:iommu.api:<version> in the Maven-layout repository next to this
# script, which iommu.api/pom.xml hands to bnd-baseline-maven-plugin.
#
#   iommu.api/baseline/regenerate.sh COMMIT VERSION
#   e.g. iommu.api/baseline/regenerate.sh bd86ade 1.0.0-bd86ade
#
# Then set api.baseline.version in iommu.api/pom.xml to VERSION and remove the
# previous version's folder. The jar is only the API bundle of that commit,
# built with the commit's own pom, bnd.bnd and cnf (bundles are reproducible:
# project.build.outputTimestamp, bnd -reproducible), tests skipped. It never
# installs anything into ~/.m2.
set -eu
commit=${1:?usage: regenerate.sh COMMIT VERSION}
version=${2:?usage: regenerate.sh COMMIT VERSION}
here=$(cd "$(dirname "$0")" && pwd)
top=$(git -C "$here" rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$top" archive "$commit" pom.xml bnd.bnd cnf iommu.api | tar -x -C "$work"
# only the API module: the others are not needed for its jar
sed -i '/<module>/{/<module>iommu\.api<\/module>/!d}' "$work/pom.xml"
(cd "$work" && mvn -B -q package -pl iommu.api -DskipTests)
dir="$here/repository/iommu/iommu.api/$version"
mkdir -p "$dir"
cp "$work/iommu.api/target/iommu.api-1.0.0-SNAPSHOT.jar" "$dir/iommu.api-$version.jar"
cat > "$dir/iommu.api-$version.pom" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>iommu</groupId>
  <artifactId>iommu.api</artifactId>
  <version>$version</version>
  <description>The iommu.api bundle as built at commit $commit: the API baseline, not for use as a dependency.</description>
</project>
POM
unzip -p "$dir/iommu.api-$version.jar" META-INF/MANIFEST.MF | tr -d '\r' | sed -n '/^Export-Package/,/^[A-Z]/p'
