/**
 * Which Content-Type a JSON request body may come under.
 *
 *   isJsonMediaType("application/json; charset=utf-8") // true
 *   isJsonMediaType("text/plain")                      // false: 415, a browser form or a no-preflight fetch
 *
 * A media type is type "/" subtype, case-insensitive, followed by parameters after ";" (RFC 9110 section 8.3.1).
 * Only application/json is taken: a JSON body under text/plain, a form or multipart is refused, so that what a page
 * elsewhere can send without a CORS preflight (the Fetch standard's CORS-safelisted request-header) never reaches
 * the JSON routes as JSON.
 */
export function isJsonMediaType(contentType: string): boolean {
  return contentType.split(";")[0].trim().toLowerCase() === "application/json";
}
