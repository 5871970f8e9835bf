package io.dagy.gateway.clerk;

import io.dagy.gateway.web.WebhookDeliveries;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handles one delivery of Clerk's webhook: authenticate it, skip it if its {@code svix-id} was processed before, run
 * its command, then record the id. The order matters: the command runs before the id is recorded, so a crash between
 * the two makes the provider's retry run the command again (an idempotent no-op), never skip it. The record makes a
 * replayed delivery a no-op across nodes even where the command alone would not be (an old profile sent again after a
 * deletion is refused by the aggregate anyway; a replay with the same id never reaches it at all).
 */
final class ClerkWebhook {

    private static final Logger log = LoggerFactory.getLogger(ClerkWebhook.class);

    private final SvixSignature signature;
    private final WebhookDeliveries deliveries;
    private final ClerkEvents events;
    private final CommandGateway commands;

    ClerkWebhook(SvixSignature signature, WebhookDeliveries deliveries, ClerkEvents events, CommandGateway commands) {
        this.signature = signature;
        this.deliveries = deliveries;
        this.events = events;
        this.commands = commands;
    }

    /** What became of an authentic delivery. */
    enum Outcome { PROCESSED, ALREADY_PROCESSED, IGNORED }

    /**
     * @throws io.dagy.gateway.problem.ProblemException 401 for a delivery that is not authentic or not fresh, 400 for
     *                                                  an authentic body that is not a usable event
     */
    Outcome receive(String svixId, String svixTimestamp, String svixSignature, byte[] body) {
        signature.verify(svixId, svixTimestamp, svixSignature, body);
        if (deliveries.processed(svixId)) {
            log.debug("Clerk delivery {} was processed before; acknowledged again", svixId);
            return Outcome.ALREADY_PROCESSED;
        }
        ClerkEvents.Parsed event = events.parse(body);
        if (event.command().isEmpty()) {
            log.debug("Clerk delivery {} of type {} ignored", svixId, event.type());
            return Outcome.IGNORED;
        }
        commands.sendAndWait(event.command().get());
        deliveries.record(svixId, event.type());
        return Outcome.PROCESSED;
    }
}
