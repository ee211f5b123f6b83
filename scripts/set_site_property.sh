#!/usr/bin/env bash
# set_site_property.sh BEARER VALUE PROPERTY: sets a site property of the account $LP_ACCOUNT, as
# the script of the same name in LivePerson's Messaging Window API prerequisites does, e.g.
#   ./set_site_property.sh $LP_BEARER true messaging.file.sharing.enabled
# BEARER comes from POST /api/account/$LP_ACCOUNT/login?v=1.1 (an admin of the account). The
# service is $LP_ACCOUNTCONFIGREADWRITE, else $LP_AGENTVEP (host[:port]); LP_SCHEME is https
# unless set (http for a local `attache serve`). Prints the properties as they are now.
set -euo pipefail
if [[ $# -ne 3 ]]; then
  echo "usage: $0 BEARER VALUE PROPERTY" >&2
  exit 2
fi
bearer=$1 value=$2 property=$3
host=${LP_ACCOUNTCONFIGREADWRITE:-${LP_AGENTVEP:?set LP_AGENTVEP to the service host[:port]}}
body=$(printf '[{"id":"%s","type":1,"propertyValue":{"value":%s}}]' "$property" "$value")
curl -sS --fail-with-body -X PUT \
  -H "Authorization: Bearer $bearer" -H "Content-Type: application/json" -H "Accept: application/json" \
  -d "$body" "${LP_SCHEME:-https}://$host/api/account/${LP_ACCOUNT:?set LP_ACCOUNT}/configuration/setting/properties?v=3.0"
echo
