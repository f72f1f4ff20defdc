// The app renders in the browser only: it talks to the API from the page's origin, and the
// server hands out one fallback page for every route.
export const ssr = false;
export const prerender = false;
