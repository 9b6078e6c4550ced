-- Tessera migration for MySQL and MariaDB. Idempotent: run it on every start.
--
-- Table and column names are those of @auth/kysely-adapter (and Prisma's default
-- Auth.js models): `User`, `Account`, `Session`, `VerificationToken` with camelCase
-- columns, VARCHAR(36) UUID ids and DATETIME(3) timestamps holding UTC, as in the kysely
-- adapter's MySQL schema. Long values (names, images, OAuth tokens) are TEXT.
--
-- utf8mb4_bin: every Unicode character, and unique keys that tell `alice@x` from
-- `Alice@x`. The adapter's lookups add a byte comparison of their own, so they are exact
-- on tables another tool created in a case- or accent-insensitive collation too (and
-- despite utf8mb4_bin ignoring trailing spaces).

CREATE TABLE IF NOT EXISTS `User` (
  `id` VARCHAR(36) NOT NULL,
  `name` TEXT NULL,
  `email` VARCHAR(255) NULL,
  `emailVerified` DATETIME(3) NULL,
  `image` TEXT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `User_email_key` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `Account` (
  `id` VARCHAR(36) NOT NULL,
  `userId` VARCHAR(36) NOT NULL,
  `type` VARCHAR(255) NOT NULL,
  `provider` VARCHAR(255) NOT NULL,
  `providerAccountId` VARCHAR(255) NOT NULL,
  `refresh_token` TEXT NULL,
  `access_token` TEXT NULL,
  `expires_at` BIGINT NULL,
  `token_type` VARCHAR(255) NULL,
  `scope` TEXT NULL,
  `id_token` TEXT NULL,
  `session_state` TEXT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `Account_provider_providerAccountId_key` (`provider`, `providerAccountId`),
  KEY `Account_userId_index` (`userId`),
  CONSTRAINT `Account_userId_fk` FOREIGN KEY (`userId`) REFERENCES `User` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `Session` (
  `id` VARCHAR(36) NOT NULL,
  `sessionToken` VARCHAR(255) NOT NULL,
  `userId` VARCHAR(36) NOT NULL,
  `expires` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `Session_sessionToken_key` (`sessionToken`),
  KEY `Session_userId_index` (`userId`),
  CONSTRAINT `Session_userId_fk` FOREIGN KEY (`userId`) REFERENCES `User` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `VerificationToken` (
  `identifier` VARCHAR(255) NOT NULL,
  `token` VARCHAR(255) NOT NULL,
  `expires` DATETIME(3) NOT NULL,
  PRIMARY KEY (`identifier`, `token`),
  UNIQUE KEY `VerificationToken_token_key` (`token`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
