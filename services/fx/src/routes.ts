import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { auditOrigin, forbidden, getPrincipal, requireAdmin, unauthenticated } from "@fintech/auth";
import { formatAmount, formatRate, parseAmount, parseRate } from "@fintech/money";
import { pageSize } from "@fintech/platform";
import type { Quote as QuoteMessage, Rate } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { FxService, QuoteSchema, RateSchema } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import type { FxService as Fx, Quote } from "./fx-service.js";
import type { ResolvedRate, StoredRate } from "./rate-book.js";

// The RPC surface: decimal strings and proto messages at the edge, bigint minor units inside.
// Requests have passed validation.ts, so codes are known ISO currencies and amounts parse.

export function fxRoutes(fx: Fx, opts: { pivot: string }) {
  const code = (c: string) => c.toUpperCase();
  return (router: ConnectRouter) =>
    router.service(FxService, {
      async listCurrencies() {
        const data = await fx.listCurrencies();
        return { data: data.map((c) => ({ code: c.code, name: c.name, minorUnits: c.minorUnits })) };
      },
      async listRates(req) {
        const base = req.base === "" ? opts.pivot : code(req.base);
        return { base, data: (await fx.listRates(base)).map(rateMessage) };
      },
      async getRate(req) {
        return { rate: rateMessage(await fx.getRate(code(req.base), code(req.quote))) };
      },
      async listRateHistory(req) {
        const page = await fx.rateHistory(
          code(req.base),
          code(req.quote),
          pageSize(req.limit),
          req.cursor === "" ? undefined : req.cursor,
        );
        return {
          data: page.data.map((r) => rateMessage({ ...r, derivation: "direct" })),
          hasMore: page.nextCursor !== undefined,
          nextCursor: page.nextCursor ?? "",
        };
      },
      async setRate(req, ctx) {
        const admin = requireAdmin(ctx);
        const rate = await fx.setRate(
          code(req.base),
          code(req.quote),
          parseRate(req.rate),
          `admin:${admin.userId}`,
          auditOrigin(ctx),
        );
        return { rate: rateMessage(rate) };
      },
      async createQuote(req, ctx) {
        const from = code(req.fromCurrency);
        return {
          quote: quoteMessage(
            await fx.createQuote(
              creatorOf(ctx, req.forUserId.toLowerCase()),
              from,
              code(req.toCurrency),
              parseAmount(req.amount, from),
            ),
          ),
        };
      },
      async getQuote(req, ctx) {
        const p = getPrincipal(ctx);
        // Services act for users (the wallet reads the quotes it made for them); admins read any.
        const anyOwner = p?.kind === "service" || (p?.kind === "user" && p.roles.includes("admin"));
        return {
          quote: quoteMessage(
            await fx.getQuote(req.quoteId.toLowerCase(), { owner: ownerOf(ctx), anyOwner }),
          ),
        };
      },
      async redeemQuote(req) {
        // Services only (server.ts): the wallet redeems the quotes it made for its users.
        return { quote: quoteMessage(await fx.redeemQuote(req.quoteId.toLowerCase())) };
      },
      async convert(req) {
        const from = code(req.fromCurrency);
        const to = code(req.toCurrency);
        const amount = parseAmount(req.amount, from);
        const { toAmount, rate } = await fx.convert(from, to, amount);
        return {
          fromCurrency: from,
          toCurrency: to,
          fromAmount: formatAmount(amount, from),
          toAmount: formatAmount(toAmount, to),
          rate: formatRate(rate),
        };
      },
    });
}

/** The caller as a quote owner: "user:<id>" or "service:<name>". */
function ownerOf(ctx: HandlerContext): string {
  const p = getPrincipal(ctx);
  if (p === undefined) throw unauthenticated("credentials required");
  return p.kind === "user" ? `user:${p.userId}` : `service:${p.service}`;
}

/**
 * Who a new quote belongs to: the calling user, or the user a service names in for_user_id (else the service).
 * A user naming someone else is refused, so no one makes quotes in another user's name.
 */
function creatorOf(ctx: HandlerContext, forUserId: string): string {
  const p = getPrincipal(ctx);
  if (forUserId === "") return ownerOf(ctx);
  if (p?.kind === "user" && p.userId !== forUserId) throw forbidden("for_user_id is for service callers");
  return `user:${forUserId}`;
}

function rateMessage(r: ResolvedRate | (StoredRate & { derivation: string })): Rate {
  return create(RateSchema, {
    base: r.base,
    quote: r.quote,
    rate: formatRate(r.rate),
    updatedAt: timestampFromDate(r.updatedAt),
    derivation: r.derivation,
    source: r.source,
  });
}

function quoteMessage(q: Quote): QuoteMessage {
  return create(QuoteSchema, {
    quoteId: q.id,
    fromCurrency: q.fromCurrency,
    toCurrency: q.toCurrency,
    rate: formatRate(q.rate),
    midRate: formatRate(q.midRate),
    spreadBps: q.spreadBps,
    fromAmount: formatAmount(q.fromAmount, q.fromCurrency),
    toAmount: formatAmount(q.toAmount, q.toCurrency),
    spreadAmount: formatAmount(q.spreadAmount, q.toCurrency),
    createdAt: timestampFromDate(q.createdAt),
    expiresAt: timestampFromDate(q.expiresAt),
    status: q.status,
  });
}
