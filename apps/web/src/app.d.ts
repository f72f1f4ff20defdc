/// <reference types="vite/client" />

declare global {
  namespace App {}

  interface ImportMetaEnv {
    /** The transport the build talks to the API with: "connect" (default) or "grpc-web". */
    readonly VITE_GROUPPE_TRANSPORT?: string;
  }
}

export {};
