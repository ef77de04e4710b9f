// Seeds a running platform (./dev start) with demo data through the public REST API only, with the typed
// client integrators use (@fintech/client): users in several time zones, wallets, top-ups, purchases at merchants, a transfer, a currency
// conversion, refunds, a payment held for fraud review, and three earlier days of platform history
// imported from CSV. Then prints a short tour of curl commands. Safe to run more than once.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FintechClient } from "@fintech/client";
import { createFintechClient, isFintechApiError } from "@fintech/client";
import { serviceRegistry } from "@fintech/platform";
import { DEV_ADMIN_EMAIL } from "./services.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const G =
  process.env.DEMO_GATEWAY_URL ??
  `http://127.0.0.1:${process.env.GATEWAY_PORT ?? serviceRegistry.gateway.port}`;
const PASSWORD = "Demo pass 2026 ok!";
const run = randomBytes(3).toString("hex");
const anonymous = createFintechClient({ baseUrl: G });

/** An Idempotency-Key of this run: a rerun moves money again, a retry within it would not. */
const key = (name: string) => ({ "Idempotency-Key": `demo-${run}-${name}` });

/** Resolves with what `promise` answers, or undefined when the API refuses it with `code`. */
async function unless<T>(code: string, promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    if (isFintechApiError(err) && err.code === code) return undefined;
    throw err;
  }
}

async function waitReady(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      await anonymous.GET("/ready");
      return;
    } catch {
      // not up yet (no answer, or 503 until every backend serves)
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the platform is not ready at ${G}: start it with ./dev start`);
}

async function user(name: string, fullName: string, timezone: string) {
  const email = `${name}@demo.example.com`;
  await unless(
    "EMAIL_TAKEN",
    anonymous.POST("/api/v1/auth/register", {
      body: { email, password: PASSWORD, full_name: fullName, timezone },
    }),
  );
  const { access_token } = await anonymous.POST("/api/v1/auth/login", {
    body: { email, password: PASSWORD },
  });
  const api = createFintechClient({ baseUrl: G, token: access_token });
  // The default wallet opens when identity's registration event reaches the wallet service.
  for (let i = 0; i < 50; i++) {
    const { data } = await api.GET("/api/v1/wallets");
    const wallet = data.find((w) => w.is_default) ?? data[0];
    if (wallet) return { email, api, wallet: wallet.id };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no default wallet for ${email}`);
}

const pay = (api: FintechClient, amount: string, merchant: string, category: string, name: string) =>
  api.POST("/api/v1/transactions", {
    params: { header: key(name) },
    body: {
      amount,
      currency: "MYR",
      merchant_name: merchant,
      merchant_category: category,
      transaction_type: "purchase",
    },
  });

/** An IANA zone where it is now between 23:00 and 05:00, so a payment there is off-hours for fraud. */
function nightZone(): string {
  const zones = [
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Asia/Kuala_Lumpur",
    "Asia/Kolkata",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Pacific/Honolulu",
  ];
  const hour = (tz: string) =>
    Number(
      new Intl.DateTimeFormat("en-GB", { hour: "2-digit", hourCycle: "h23", timeZone: tz }).format(
        new Date(),
      ),
    );
  return zones.find((tz) => hour(tz) >= 23 || hour(tz) < 5) ?? "Pacific/Honolulu";
}

function historyCsv(): string {
  const rows = ["timestamp,type,provider,amount,currency"];
  const kinds: Array<[string, string, string]> = [
    ["deposit", "visa", "250.00"],
    ["deposit", "paypal", "120.00"],
    ["purchase", "visa", "38.90"],
    ["purchase", "visa", "12.50"],
    ["withdrawal", "wire", "80.00"],
    ["refund", "visa", "12.50"],
    ["transfer", "wallet", "40.00"],
  ];
  for (let day = 3; day >= 1; day--) {
    kinds.forEach(([type, provider, amount], i) => {
      const at = new Date(Date.now() - day * 86_400_000);
      at.setUTCHours(2 + i * 3, 15, 0, 0);
      rows.push(`${at.toISOString()},${type},${provider},${amount},MYR`);
    });
  }
  return `${rows.join("\n")}\n`;
}

await waitReady();
console.log(`Seeding demo data through ${G} ...`);

const amy = await user("amy", "Amy Tan", "Asia/Kuala_Lumpur");
const ben = await user("ben", "Ben Lim", "Asia/Singapore");
const chloe = await user("chloe", "Chloe Ng", "Asia/Kuala_Lumpur");

for (const [u, amount, source] of [
  [amy, "1500.00", "visa"],
  [ben, "800.00", "paypal"],
  [chloe, "600.00", "wire"],
] as const) {
  await u.api.POST("/api/v1/wallets/{id}/fund", {
    params: { path: { id: u.wallet }, header: key(`fund-${u.email}`) },
    body: { amount, source },
  });
}
const lunch = await pay(amy.api, "18.90", "Nasi Lemak House", "food_beverage", "amy-1");
await pay(amy.api, "120.00", "Urban Threads", "shopping", "amy-2");
await pay(amy.api, "9.50", "Grab Ride", "transport", "amy-3");
const shoes = await pay(ben.api, "259.00", "Sole Street", "shopping", "ben-1");
await pay(ben.api, "32.40", "Kopi Corner", "food_beverage", "ben-2");
await pay(chloe.api, "75.00", "Cineplex", "entertainment", "chloe-1");
await amy.api.POST("/api/v1/transfers", {
  params: { header: key("amy-to-ben") },
  body: {
    from_wallet_id: amy.wallet,
    to_wallet_id: ben.wallet,
    amount: "50.00",
    description: "dinner split",
  },
});
await unless("WALLET_EXISTS", amy.api.POST("/api/v1/wallets", { body: { currency: "SGD" } }));
await amy.api.POST("/api/v1/wallets/{id}/convert", {
  params: { path: { id: amy.wallet }, header: key("amy-fx") },
  body: { to_currency: "SGD", amount: "70.00" },
});
await ben.api.POST("/api/v1/transactions/{id}/refund", {
  params: { path: { id: shoes.transaction_id }, header: key("ben-refund") },
  body: { amount: "59.00", reason: "wrong size" },
});
await amy.api.POST("/api/v1/transactions/{id}/refund", {
  params: { path: { id: lunch.transaction_id }, header: key("amy-refund") },
  body: { reason: "order cancelled" },
});

// A night-owl's burst of payments and then a big one: off-hours + velocity + high value = a review.
const dan = await user(`dan.${run}`, "Dan Wong", nightZone());
await dan.api.POST("/api/v1/wallets/{id}/fund", {
  params: { path: { id: dan.wallet }, header: key("dan-fund") },
  body: { amount: "20000.00", source: "wire" },
});
for (let i = 1; i <= 6; i++)
  await pay(dan.api, `${10 + i}.00`, `Night Market ${i}`, "food_beverage", `dan-${i}`);
await new Promise((r) => setTimeout(r, 1500)); // let fraud's velocity window see them
const big = await pay(dan.api, "12000.00", "Jewel Box", "shopping", "dan-big");

const adminFile = join(root, ".data", "dev-admin-password");
const adminEmail = process.env.ADMIN_EMAIL ?? DEV_ADMIN_EMAIL;
const adminPassword =
  process.env.ADMIN_PASSWORD ?? (existsSync(adminFile) ? readFileSync(adminFile, "utf8").trim() : "");
let imported = "skipped (no admin credentials)";
const adminLogin = await anonymous
  .POST("/api/v1/auth/login", { body: { email: adminEmail, password: adminPassword } })
  .catch((err: unknown) => {
    if (isFintechApiError(err)) return undefined; // no such admin here, or another password
    throw err;
  });
if (adminLogin !== undefined) {
  const admin = createFintechClient({ baseUrl: G, token: adminLogin.access_token });
  const imp = await admin.POST("/api/v1/imports", {
    body: historyCsv(),
    bodySerializer: (csv) => csv,
    headers: { "content-type": "text/csv" },
  });
  imported = `import ${imp.import_id} (21 rows over the last 3 days)`;
}

console.log(`
Done: users amy, ben and chloe (@demo.example.com, password "${PASSWORD}"), wallets funded, 6 purchases,
a transfer, a conversion to SGD, 2 refunds; dan.${run} paid 12,000.00 at night after a burst: ${big.status} (fraud score ${big.fraud_score}, flags ${JSON.stringify(big.fraud_flags)}).
History: ${imported}.

A short tour (copy and paste):

  G=${G}
  TOKEN=$(curl -s -X POST $G/api/v1/auth/login -H 'content-type: application/json' \\
    -d '{"email":"amy@demo.example.com","password":"${PASSWORD}"}' | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')
  curl -s $G/api/v1/users/me/balance -H "authorization: Bearer $TOKEN"           # MYR + SGD wallets, total in MYR
  curl -s "$G/api/v1/transactions?sort_by=amount&sort_order=desc" -H "authorization: Bearer $TOKEN"
  curl -s "$G/api/v1/analytics/spending" -H "authorization: Bearer $TOKEN"        # by merchant category
  curl -s "$G/api/v1/analytics/summary" -H "authorization: Bearer $TOKEN"

  # as the admin (${adminEmail}; ./dev start keeps its password in .data/dev-admin-password):
  ADMIN=$(curl -s -X POST $G/api/v1/auth/login -H 'content-type: application/json' \\
    -d "{\\"email\\":\\"${adminEmail}\\",\\"password\\":\\"$(cat .data/dev-admin-password)\\"}" | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')
  curl -s "$G/api/v1/fraud/reviews?status=open" -H "authorization: Bearer $ADMIN"  # dan's held payment
  curl -s -X POST $G/api/v1/fraud/reviews/${big.transaction_id}/decision -H "authorization: Bearer $ADMIN" \\
    -H 'content-type: application/json' -d '{"decision":"approve","note":"called the customer"}'
  curl -s "$G/api/v1/stats?from_date=$(date -u -d '3 days ago' +%F)&to_date=$(date -u +%F)" -H "authorization: Bearer $ADMIN"

  Swagger UI: ${G}/docs
`);
