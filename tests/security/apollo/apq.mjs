// Runs one query twice through Apollo Client's persisted-queries link (hashes sent by GET) and
// prints what the gateway answered and every HTTP request the link made, as one JSON line.
// Usage: node apq.mjs <graphql url> <bearer token>
import { createHash } from "node:crypto";

import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

const [url, token] = process.argv.slice(2);
const requests = [];

async function recordingFetch(input, init = {}) {
  const target = new URL(typeof input === "string" ? input : input.url);
  const body = init.body ? JSON.parse(init.body) : null;
  const extensions = body?.extensions ?? JSON.parse(target.searchParams.get("extensions") ?? "null");
  requests.push({
    method: init.method ?? "GET",
    hasQuery: Boolean(body?.query ?? target.searchParams.get("query")),
    sha256Hash: extensions?.persistedQuery?.sha256Hash ?? null,
  });
  const response = await fetch(input, init);
  requests.at(-1).status = response.status;
  requests.at(-1).cacheControl = response.headers.get("cache-control");
  return response;
}

const link = new PersistedQueryLink({
  sha256: (text) => createHash("sha256").update(text).digest("hex"),
  useGETForHashedQueries: true,
}).concat(
  new HttpLink({ uri: url, headers: { authorization: `Bearer ${token}` }, fetch: recordingFetch }),
);
const client = new ApolloClient({ link, cache: new InMemoryCache() });

const PROFILE = gql`
  query Profile {
    me {
      profile {
        firstName
        lastName
      }
    }
  }
`;

const first = await client.query({ query: PROFILE, fetchPolicy: "network-only" });
const second = await client.query({ query: PROFILE, fetchPolicy: "network-only" });
console.log(JSON.stringify({ first: first.data, second: second.data, requests }));
