package io.dagy.gateway.security;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.OrganizationCommands.CreateApiKey;
import io.dagy.contracts.identity.OrganizationCommands.CreateOrganization;
import io.dagy.contracts.identity.Role;
import io.dagy.projection.identity.IdentityDirectory;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;

/**
 * The newcomer's key (local profile only): the first start creates the default organization and an owner API key,
 * prints the key once and writes it to {@code .dagy/api-key}, readable by its owner only. Later starts reuse the key
 * in the file while the store still knows it; a fresh store (a deleted {@code .dagy/}, or
 * {@code DAGY_LOCAL_IN_MEMORY=true}) gets a new one.
 */
public final class LocalOwnerKey {

    private static final Logger log = LoggerFactory.getLogger(LocalOwnerKey.class);
    static final String NAME = "local owner";

    private final Path file;
    private volatile String key;

    LocalOwnerKey(Path file) {
        this.file = file;
    }

    /** The key, for tests and the startup log of the local profile. */
    public String key() {
        return key;
    }

    public Path file() {
        return file;
    }

    void ensure(CommandGateway commands, IdentityDirectory directory, EventStore eventStore) {
        commands.sendAndWait(new CreateOrganization(OrgId.DEFAULT, "Default organization", null));
        directory.catchUp(eventStore, OrgId.DEFAULT);
        String existing = read();
        if (existing != null && ApiKeys.looksLikeKey(existing) && directory.key(ApiKeys.hash(existing))
                .filter(grant -> grant.usableAt(Instant.now()) && grant.role() == Role.OWNER).isPresent()) {
            key = existing;
            log.info("Owner API key of the default organization: in {}", file.toAbsolutePath());
            return;
        }
        ApiKeys.NewKey created = ApiKeys.generate();
        commands.sendAndWait(new CreateApiKey(OrgId.DEFAULT, created.id(), NAME, Role.OWNER, created.prefix(),
                created.hash(), null));
        directory.catchUp(eventStore, OrgId.DEFAULT);
        write(created.key());
        key = created.key();
        // printed once, on purpose: this is the newcomer's way in, and it is also in the file only they can read
        System.out.println("Created the owner API key of the default organization (shown once; also in "
                + file.toAbsolutePath() + "):\n  " + created.key()
                + "\nUse it as: curl -H \"Authorization: Bearer $(cat " + file + ")\" ...");
    }

    private String read() {
        try {
            return Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.US_ASCII).strip() : null;
        } catch (IOException unreadable) {
            log.warn("Cannot read {}: a new owner key will be created", file, unreadable);
            return null;
        }
    }

    /** Writes the key to a file only its owner can read, replacing the file atomically. */
    private void write(String value) {
        try {
            Path directory = file.toAbsolutePath().getParent();
            Files.createDirectories(directory);
            Path temporary = Files.createTempFile(directory, ".api-key", ".tmp");
            try {
                Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException notPosix) {
                log.warn("{} cannot be restricted to its owner on this file system", file);
            }
            Files.writeString(temporary, value + "\n", StandardCharsets.US_ASCII);
            try {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException notAtomic) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the owner API key to " + file, e);
        }
    }
}
