/**
 * Payouts: the daily settlement run and the bank file it writes, an ISO 20022 customer credit transfer initiation
 * (pain.001.001.09: GrpHdr with NbOfTxs and CtrlSum, one PmtInf per currency, one CdtTrfTxInf per merchant).
 * Layout from the ISO 20022 message definition report for pain.001.001.09 and the EPC SEPA Credit Transfer
 * customer-to-bank implementation guidelines (service level SEPA, charge bearer SLEV).
 *
 *   const xml = pain001({ msgId: "PO-2026-11-23", createdAt: now, debtor, payments });
 */

/** ISO 13616 IBAN: 2 letters, 2 check digits, up to 30 alphanumerics; mod 97 of the rearranged number is 1. */
export function validIban(iban: string): boolean {
  if (typeof iban !== "string" || !/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const r = iban.slice(4) + iban.slice(0, 4);
  let mod = 0;
  for (const ch of r) {
    const v = ch >= "A" ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) mod = (mod * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return mod === 1;
}

/** ISO 9362 BIC: 8 or 11 characters. */
export function validBic(bic: string): boolean {
  return typeof bic === "string" && /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(bic);
}

const ISO4217: Record<number, string> = { 978: "EUR", 840: "USD", 826: "GBP", 756: "CHF", 752: "SEK", 985: "PLN", 208: "DKK", 578: "NOK", 203: "CZK", 348: "HUF" };

/** ISO 4217 alphabetic code of a numeric one (the file needs the letters). */
export function currencyCode(n: number): string {
  const c = ISO4217[n];
  if (!c) throw new Error("payouts: no ISO 4217 code known for currency " + n);
  return c;
}

/** Minor units as the file's decimal amount (two decimals: the currencies above all have two). */
export function decimal(minor: number): string {
  const sign = minor < 0 ? "-" : "";
  const a = Math.abs(minor);
  return sign + Math.floor(a / 100) + "." + String(a % 100).padStart(2, "0");
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/**
 * Text in the SEPA character set (Latin letters, digits, / - ? : ( ) . , ' + space; EPC guidelines, "Character
 * set"): accents are dropped from their letters (é -> e), anything else becomes a space; at most `max` characters.
 */
export function sepaText(s: string, max: number): string {
  return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[^A-Za-z0-9/\-?:().,'+ ]/g, " ").replace(/\s+/g, " ").trim().slice(0, max) || "NOTPROVIDED";
}

export interface Party {
  name: string;
  iban: string;
  /** "" when the IBAN alone routes it (SEPA "IBAN only"). */
  bic: string;
}

export interface CreditTransfer {
  endToEndId: string;
  amountMinor: number;
  currency: number;
  creditor: Party;
  remittance: string;
}

export interface Pain001 {
  msgId: string;
  /** Unix ms. */
  createdAt: number;
  /** "YYYY-MM-DD": when the bank should execute it. */
  executionDate: string;
  debtor: Party;
  payments: CreditTransfer[];
}

function agent(bic: string, pad: string): string {
  return bic ? `${pad}<FinInstnId><BICFI>${esc(bic)}</BICFI></FinInstnId>` : `${pad}<FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId>`;
}

/** The pain.001.001.09 document. NbOfTxs and CtrlSum (group header and each PmtInf) are the payments' count and sum. */
export function pain001(p: Pain001): string {
  const byCurrency = new Map<number, CreditTransfer[]>();
  for (const t of p.payments) {
    if (!Number.isSafeInteger(t.amountMinor) || t.amountMinor <= 0) throw new Error("payouts: amount " + t.amountMinor + " is not a positive integer");
    const list = byCurrency.get(t.currency) ?? [];
    list.push(t);
    byCurrency.set(t.currency, list);
  }
  const total = p.payments.reduce((s, t) => s + t.amountMinor, 0);
  const created = new Date(p.createdAt).toISOString().replace(/\.\d{3}Z$/, "Z");
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">');
  out.push("  <CstmrCdtTrfInitn>");
  out.push("    <GrpHdr>");
  out.push(`      <MsgId>${esc(p.msgId.slice(0, 35))}</MsgId>`);
  out.push(`      <CreDtTm>${created}</CreDtTm>`);
  out.push(`      <NbOfTxs>${p.payments.length}</NbOfTxs>`);
  out.push(`      <CtrlSum>${decimal(total)}</CtrlSum>`);
  out.push(`      <InitgPty><Nm>${esc(sepaText(p.debtor.name, 70))}</Nm></InitgPty>`);
  out.push("    </GrpHdr>");
  let i = 0;
  for (const [cur, list] of byCurrency) {
    const sum = list.reduce((s, t) => s + t.amountMinor, 0);
    const ccy = currencyCode(cur);
    out.push("    <PmtInf>");
    out.push(`      <PmtInfId>${esc((p.msgId + "-" + ++i).slice(0, 35))}</PmtInfId>`);
    out.push("      <PmtMtd>TRF</PmtMtd>");
    out.push(`      <NbOfTxs>${list.length}</NbOfTxs>`);
    out.push(`      <CtrlSum>${decimal(sum)}</CtrlSum>`);
    if (ccy === "EUR") out.push("      <PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>");
    out.push(`      <ReqdExctnDt><Dt>${p.executionDate}</Dt></ReqdExctnDt>`);
    out.push(`      <Dbtr><Nm>${esc(sepaText(p.debtor.name, 70))}</Nm></Dbtr>`);
    out.push(`      <DbtrAcct><Id><IBAN>${esc(p.debtor.iban)}</IBAN></Id></DbtrAcct>`);
    out.push(`      <DbtrAgt>${agent(p.debtor.bic, "")}</DbtrAgt>`);
    out.push("      <ChrgBr>SLEV</ChrgBr>");
    for (const t of list) {
      out.push("      <CdtTrfTxInf>");
      out.push(`        <PmtId><EndToEndId>${esc(t.endToEndId.slice(0, 35))}</EndToEndId></PmtId>`);
      out.push(`        <Amt><InstdAmt Ccy="${ccy}">${decimal(t.amountMinor)}</InstdAmt></Amt>`);
      if (t.creditor.bic) out.push(`        <CdtrAgt>${agent(t.creditor.bic, "")}</CdtrAgt>`);
      out.push(`        <Cdtr><Nm>${esc(sepaText(t.creditor.name, 70))}</Nm></Cdtr>`);
      out.push(`        <CdtrAcct><Id><IBAN>${esc(t.creditor.iban)}</IBAN></Id></CdtrAcct>`);
      out.push(`        <RmtInf><Ustrd>${esc(sepaText(t.remittance, 140))}</Ustrd></RmtInf>`);
      out.push("      </CdtTrfTxInf>");
    }
    out.push("    </PmtInf>");
  }
  out.push("  </CstmrCdtTrfInitn>");
  out.push("</Document>");
  return out.join("\n") + "\n";
}
