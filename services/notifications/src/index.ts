export type { NotificationsConfig } from "./config.js";
export { parseNotificationsConfig } from "./config.js";
export type { OutgoingMail } from "./mail-sender.js";
export { smtpMailSender } from "./mail-sender.js";
export { renderMail } from "./render-mail.js";
export type { NotificationsDeps } from "./server.js";
export { build, migrationsDir } from "./server.js";
export { startNotifications } from "./start.js";
