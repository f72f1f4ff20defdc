/** The options every command accepts (given before or after the command name). */
export interface GlobalOptions {
  /** Comma-separated server addresses; also GROUPPE_ADDRESS. */
  address?: string;
  /** PEM file of the CA that signed the server's certificate; also GROUPPE_CA. */
  ca?: string;
  /** PEM file of the client certificate (mTLS); also GROUPPE_CERT. */
  cert?: string;
  /** PEM file of the client certificate's key; also GROUPPE_KEY. */
  key?: string;
  /** Print JSON for scripts instead of tables. */
  json?: boolean;
  /** Deadline of each call in milliseconds. */
  timeout?: number;
}
