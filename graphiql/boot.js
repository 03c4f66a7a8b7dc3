// Starts GraphiQL on the page `GET /graphql` serves. A file of its own rather than an inline
// script, so the page's Content Security Policy needs no 'unsafe-inline' for scripts.
// React, ReactDOM and GraphiQL are the pinned UMD bundles that scripts/build-graphiql
// vendors next to this file; nothing is loaded from anywhere else.
(function () {
  "use strict";
  var endpoint = new URL("/graphql", window.location.href).toString();
  var fetcher = GraphiQL.createFetcher({ url: endpoint });
  var defaultQuery =
    "# Sign in (run Login), then put\n" +
    "# its token in Headers, below:\n" +
    "#   {\"Authorization\":\n" +
    "#    \"Bearer <token>\"}\n" +
    "# Docs (top left) lists the API.\n\n" +
    "mutation Login {\n" +
    "  login(email: \"you@example.com\",\n" +
    "        password: \"...\") {\n" +
    "    token\n" +
    "  }\n" +
    "}\n\n" +
    "query Me {\n  me { id name email role }\n}\n";
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
      schemaDescription: true,
    })
  );
})();
