/** Espruino pins by name ("D4"). */
export function pin(name: string): EspruinoPin {
  return new Pin(name);
}
