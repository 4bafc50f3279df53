#!/usr/bin/env bash
# Copies the Playground's assets from the pinned npm packages (npm ci first)
# into server/playground/assets, where the binary embeds them: GraphiQL
# (gzipped: it is 3.5 MB as it is), React, ReactDOM, the graphql-sse client
# (live queries in the Playground), and their licences.
# TestPlaygroundAssetsMatchThePins checks the copies are current.
set -euo pipefail
cd "$(dirname "$0")"
out=../server/playground/assets
mkdir -p "$out"
gzip -9 -n -c node_modules/graphiql/graphiql.min.js >"$out/graphiql.min.js.gz"
cp node_modules/graphiql/graphiql.min.css "$out/graphiql.min.css"
cp node_modules/react/umd/react.production.min.js "$out/react.production.min.js"
cp node_modules/react-dom/umd/react-dom.production.min.js "$out/react-dom.production.min.js"
for p in graphiql react react-dom; do cp "node_modules/$p/LICENSE" "$out/LICENSE.$p"; done
cp node_modules/graphql-sse/umd/graphql-sse.min.js "$out/graphql-sse.min.js"
cp node_modules/graphql-sse/LICENSE.md "$out/LICENSE.graphql-sse"
