/**
 * Espruino bindings of hal/io.ts: UART, I2C, SPI and digital pins on an ESP32.
 * Usage: `const open = uart({ port: 2, tx: "D4", rx: "D5" }); const s = open({ baud: 9600, onReadable(d) {} });`
 */
import type { DigitalOpen, I2COpen, SerialOpen, SPIOpen } from "../io.ts";
import { PinMode } from "../io.ts";
import { pin } from "./pins.ts";

export interface UartWiring {
  port: number;
  tx: string;
  rx: string;
}
export interface I2CWiring {
  scl: string;
  sda: string;
}
export interface SPIWiring {
  sck: string;
  mosi: string;
  cs: string;
}

function serialPort(n: number): EspruinoSerial {
  return n === 2 ? Serial2 : n === 3 ? Serial3 : Serial1;
}

export function uart(w: UartWiring): SerialOpen {
  return (o) => {
    const port = serialPort(w.port);
    port.setup(o.baud, { tx: pin(w.tx), rx: pin(w.rx) });
    port.on("data", (d) => o.onReadable(E.toUint8Array(d)));
    return {
      write(data) {
        port.write(data);
      },
      close() {
        port.removeAllListeners("data");
      },
    };
  };
}

/** I2C1 on the given pins. Espruino throws on a NACK; the interface reports it as false / null instead. */
export function i2c(w: I2CWiring): I2COpen {
  return (o) => {
    I2C1.setup({ scl: pin(w.scl), sda: pin(w.sda), bitrate: o.hz });
    return {
      write(address, data) {
        try {
          I2C1.writeTo(address, data);
          return true;
        } catch (e) {
          return false;
        }
      },
      read(address, count) {
        try {
          return I2C1.readFrom(address, count);
        } catch (e) {
          return null;
        }
      },
    };
  };
}

export function spi(w: SPIWiring): SPIOpen {
  return (o) => {
    const cs = pin(w.cs);
    SPI1.setup({ sck: pin(w.sck), mosi: pin(w.mosi), baud: o.hz, mode: o.mode });
    return {
      write(data, count) {
        if (count) SPI1.write({ data: data, count: count }, cs);
        else SPI1.write(data, cs);
      },
    };
  };
}

export function digital(name: string): DigitalOpen {
  return (o) => {
    const p = pin(name);
    pinMode(p, ["output", "input", "input_pullup", "input_pulldown"][o.mode]);
    let watch = 0;
    const onChange = o.onChange;
    if (onChange && o.mode !== PinMode.Output) {
      watch = setWatch((e) => onChange(e.state ? 1 : 0), p, { repeat: true, edge: "both", debounce: o.debounceMs || 0 });
    }
    return {
      read: () => digitalRead(p),
      write(level) {
        digitalWrite(p, level);
      },
      close() {
        if (watch) clearWatch(watch);
        watch = 0;
      },
    };
  };
}
