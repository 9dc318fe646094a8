/**
 * The schema migrations, in the order they are applied. The SQL lives in
 * real `.sql` files imported as text modules (stable since Deno 2.8), so
 * `deno compile` embeds them with no extra flag and no file is read from
 * the current directory at run time.
 *
 * @module
 */
import initial from "./001_initial.sql" with { type: "text" };
import replication from "./002_replication.sql" with { type: "text" };
import peers from "./003_peers.sql" with { type: "text" };
import fragmentSender from "./004_fragment_sender.sql" with { type: "text" };
import peerStanding from "./005_peer_standing.sql" with { type: "text" };
import catalogue from "./006_catalogue.sql" with { type: "text" };
import manifests from "./007_manifests.sql" with { type: "text" };

/** One schema migration. */
export interface Migration {
  /** Position in the order, starting at 1; never reused. */
  readonly version: number;
  /** File name, e.g. `002_replication.sql`. */
  readonly name: string;
  /** The SQL, run as one script inside one transaction. */
  readonly sql: string;
}

/**
 * Every migration this build knows, in order. Append only: a released
 * migration is never edited, renumbered or removed.
 */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, name: "001_initial.sql", sql: initial },
  { version: 2, name: "002_replication.sql", sql: replication },
  { version: 3, name: "003_peers.sql", sql: peers },
  { version: 4, name: "004_fragment_sender.sql", sql: fragmentSender },
  { version: 5, name: "005_peer_standing.sql", sql: peerStanding },
  { version: 6, name: "006_catalogue.sql", sql: catalogue },
  { version: 7, name: "007_manifests.sql", sql: manifests },
]);
