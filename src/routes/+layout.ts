// Every page is static: prerendered at build time, hydrated in the browser, no server code.
export const prerender = true;
export const trailingSlash = 'never';
