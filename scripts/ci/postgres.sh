#!/usr/bin/env bash
# CI: a real PostgreSQL for the registry's store tests (Debian's package, the distribution's
# default cluster). Idempotent: installs only when missing, starts only when down.
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "ci: installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

# The TLS tests (tau_testkit::pg::TlsCluster) run a private server of their own from the same
# package's initdb/pg_ctl, as the postgres user (runuser, util-linux).
if ! ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  echo "ci: postgresql is installed but initdb/pg_ctl are missing under /usr/lib/postgresql/*/bin" >&2
  exit 1
fi

# The cluster Debian's package created (e.g. "15 main"); create one if the package made none.
if ! pg_lsclusters -h | grep -q .; then
  version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
  pg_createcluster "$version" main
fi
read -r version cluster port status _ < <(pg_lsclusters -h | head -n 1)
if [ "$status" != "online" ]; then
  pg_ctlcluster "$version" "$cluster" start
fi
su postgres -c "psql -p $port -qAtc 'select 1'" >/dev/null
echo "ci: postgresql $version/$cluster online on 127.0.0.1:$port"
