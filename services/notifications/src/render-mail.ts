import { formatAmount, parseAmount } from "@fintech/money";
import type { MailContent, RenderedMail, TransactionFacts, TransactionKind } from "./mail-model.js";

/**
 * An amount as a mail shows it: "MYR 1,234.50". The decimal string is read by libs/money (so a currency's minor
 * units are respected and nothing passes through a float), then its whole part is grouped by thousands.
 * @throws MoneyError when the amount or currency is not one libs/money takes.
 */
export function mailAmount(amount: string, currency: string): string {
  const exact = formatAmount(parseAmount(amount, currency), currency);
  const negative = exact.startsWith("-");
  const [whole = "", fraction] = (negative ? exact.slice(1) : exact).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${currency} ${negative ? "-" : ""}${grouped}${fraction === undefined ? "" : `.${fraction}`}`;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
// Text from users (a merchant's name) may hold line breaks; a subject and a table cell stay on one line.
const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();

/** What each transaction type is called in a receipt, and what its one line says. */
function describe(content: Extract<MailContent, { template: "transaction" }>): {
  title: string;
  what: string;
} {
  const amount = mailAmount(content.amount, content.currency);
  const merchant = oneLine(content.merchantName);
  const provider = oneLine(content.provider);
  const lines: Record<TransactionKind, { title: string; what: string }> = {
    purchase: {
      title: "Payment",
      what: merchant === "" ? `${amount} paid` : `${amount} paid to ${merchant}`,
    },
    refund: {
      title: "Refund",
      what: merchant === "" ? `${amount} refunded to you` : `${amount} refunded by ${merchant}`,
    },
    top_up: {
      title: "Top-up",
      what: provider === "" ? `${amount} added` : `${amount} added from ${provider}`,
    },
    withdrawal: {
      title: "Withdrawal",
      what: provider === "" ? `${amount} withdrawn` : `${amount} withdrawn to ${provider}`,
    },
    transfer: {
      title: "Transfer",
      what: content.direction === "incoming" ? `${amount} received` : `${amount} sent`,
    },
    conversion: { title: "Conversion", what: `${amount} converted` },
  };
  return lines[content.type];
}

function html(heading: string, paragraphs: string[], rows: Array<[string, string]>): string {
  const cells = rows
    .map(
      ([label, value]) =>
        `<tr><td style="padding:4px 12px 4px 0;color:#555">${escapeHtml(label)}</td><td style="padding:4px 0">${escapeHtml(value)}</td></tr>`,
    )
    .join("");
  return [
    "<!doctype html>",
    '<html><body style="font-family:sans-serif;color:#111">',
    `<h1 style="font-size:20px">${escapeHtml(heading)}</h1>`,
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    `<table>${cells}</table>`,
    "</body></html>",
  ].join("\n");
}

function text(paragraphs: string[], rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    ...paragraphs,
    "",
    ...rows.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}`),
    "",
  ].join("\n");
}

function mail(subject: string, paragraphs: string[], rows: Array<[string, string]>): RenderedMail {
  return { subject: oneLine(subject), text: text(paragraphs, rows), html: html(subject, paragraphs, rows) };
}

/**
 * The e-mail for one notification, as plain text and simple HTML with the same content. User-given text (a
 * merchant's name) is escaped in the HTML and kept on one line in the subject. A review notice names the
 * payment's own amount and merchant when `payment` gives them (fraud's events carry only the base-currency
 * amount, which a held notice shows otherwise).
 * @throws MoneyError when the content's amount is not a valid amount of its currency.
 */
export function renderMail(content: MailContent, payment?: TransactionFacts): RenderedMail {
  const paid = payment && {
    amount: mailAmount(formatAmount(payment.amountMinor, payment.currency), payment.currency),
    merchant: oneLine(payment.merchantName),
  };
  const paymentRows: Array<[string, string]> =
    paid === undefined
      ? []
      : [
          ["Amount", paid.amount],
          ...(paid.merchant === "" ? [] : [["Merchant", paid.merchant] as [string, string]]),
        ];
  switch (content.template) {
    case "transaction": {
      const { title, what } = describe(content);
      const rows: Array<[string, string]> = [
        ["Amount", mailAmount(content.amount, content.currency)],
        ...(content.merchantName === ""
          ? []
          : [["Merchant", oneLine(content.merchantName)] as [string, string]]),
        ["Transaction", content.transactionId],
        ["Date", content.occurredAt],
      ];
      if (content.change === "reversed") {
        return mail(
          `${title} reversed: ${mailAmount(content.amount, content.currency)}`,
          [`Your ${title.toLowerCase()} (${what}) was reversed. The balance is as it was before it.`],
          rows,
        );
      }
      return mail(`${title} receipt: ${what}`, [`${what}.`, "Thank you for using the wallet."], rows);
    }
    case "review_held": {
      const amount = paid?.amount ?? mailAmount(content.amount, content.currency);
      const to = paid === undefined || paid.merchant === "" ? "" : ` to ${paid.merchant}`;
      return mail(
        `Payment held for review: ${amount}${to}`,
        [
          `A payment of ${amount}${to} is held while we check it. The money is set aside and nothing is paid until the check is done.`,
          "We will write again when it is decided.",
        ],
        [
          ...(paid === undefined ? [["Amount", amount] as [string, string]] : paymentRows),
          ["Transaction", content.transactionId],
          ["Date", content.occurredAt],
        ],
      );
    }
    case "webhook_disabled": {
      const since =
        content.failingSince === "" ? [] : [["Failing since", content.failingSince] as [string, string]];
      return mail(
        "Webhook endpoint disabled",
        [
          `Every delivery to your webhook endpoint ${oneLine(content.url)} failed for days, so it was switched off and receives no more events.`,
          "Once it answers again, switch it back on (PATCH /api/v1/webhooks/{id} with enabled true).",
        ],
        [
          ["Endpoint", content.webhookId],
          ["URL", oneLine(content.url)],
          ...since,
          ["Disabled", content.occurredAt],
        ],
      );
    }
    case "review_decided": {
      const approved = content.decision === "approved";
      return mail(
        approved ? "Payment approved after review" : "Payment declined after review",
        [
          approved
            ? "The payment we held for review was approved and has been completed."
            : "The payment we held for review was declined. The money set aside is available again.",
        ],
        [...paymentRows, ["Transaction", content.transactionId], ["Date", content.occurredAt]],
      );
    }
  }
}
