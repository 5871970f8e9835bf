package io.dagy.gateway.security;

import io.dagy.contracts.identity.Actor;
import io.dagy.contracts.identity.ActorKind;
import io.dagy.contracts.identity.MessageKeys;
import jakarta.servlet.http.HttpServletRequest;
import org.axonframework.commandhandling.CommandMessage;
import org.axonframework.messaging.Message;
import org.axonframework.messaging.MessageDispatchInterceptor;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.correlation.CorrelationDataProvider;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Puts the organization and the actor on every message (the keys of {@link MessageKeys}):
 * <ul>
 *     <li>a command sent while serving a request carries the request's {@link Caller}, its address and user agent
 *     ({@link #fromRequest()});</li>
 *     <li>an event carries what the command that caused it carried ({@link #correlation()});</li>
 *     <li>a command sent while handling an event or a deadline (sagas, orchestration) carries that event's
 *     organization and the system actor; one sent by nobody in particular (a backend report) the system actor, and
 *     the aggregate it reaches stamps its own organization on the events (command-side {@code Tenancy}).</li>
 * </ul>
 */
public final class MessageTenancy {

    private static final int MAX_USER_AGENT = 256;

    private MessageTenancy() {
    }

    /** The dispatch interceptor of the command gateway. */
    public static MessageDispatchInterceptor<CommandMessage<?>> fromRequest() {
        return new MessageDispatchInterceptor<>() {
            @Override
            public BiFunction<Integer, CommandMessage<?>, CommandMessage<?>> handle(List<? extends CommandMessage<?>> messages) {
                return (index, command) -> command.andMetaData(metadataFor(command.getMetaData()));
            }
        };
    }

    private static Map<String, String> metadataFor(MetaData present) {
        Map<String, String> added = new HashMap<>();
        if (RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes) {
            HttpServletRequest request = attributes.getRequest();
            Caller.of(request).ifPresent(caller -> {
                added.put(MessageKeys.ORG_ID, caller.org().value());
                added.put(MessageKeys.ACTOR_KIND, caller.actor().kind().code());
                added.put(MessageKeys.ACTOR_ID, caller.actor().id());
            });
            if (!added.containsKey(MessageKeys.ACTOR_KIND) && request.getAttribute(CallerFilter.USER_ATTRIBUTE) != null) {
                // a signed-in person acting in no organization yet (creating one)
                added.put(MessageKeys.ACTOR_KIND, ActorKind.USER.code());
                added.put(MessageKeys.ACTOR_ID, (String) request.getAttribute(CallerFilter.USER_ATTRIBUTE));
            }
            if (added.containsKey(MessageKeys.ACTOR_KIND)) {
                added.put(MessageKeys.IP_ADDRESS, request.getRemoteAddr());
                String agent = request.getHeader("User-Agent");
                if (agent != null) {
                    added.put(MessageKeys.USER_AGENT, agent.length() > MAX_USER_AGENT ? agent.substring(0, MAX_USER_AGENT) : agent);
                }
            }
        }
        if (!added.containsKey(MessageKeys.ACTOR_KIND) && !present.containsKey(MessageKeys.ACTOR_KIND)) {
            added.put(MessageKeys.ACTOR_KIND, Actor.SYSTEM.kind().code());
            added.put(MessageKeys.ACTOR_ID, Actor.SYSTEM.id());
        }
        return added;
    }

    /** The correlation data provider: what a message handled passes on to the messages its handling creates. */
    public static CorrelationDataProvider correlation() {
        return (Message<?> message) -> {
            MetaData metaData = message.getMetaData();
            Map<String, Object> passed = new HashMap<>();
            copy(metaData, passed, MessageKeys.ORG_ID);
            if (message instanceof CommandMessage<?>) {
                copy(metaData, passed, MessageKeys.ACTOR_KIND);
                copy(metaData, passed, MessageKeys.ACTOR_ID);
                copy(metaData, passed, MessageKeys.IP_ADDRESS);
                copy(metaData, passed, MessageKeys.USER_AGENT);
            } else {
                passed.put(MessageKeys.ACTOR_KIND, Actor.SYSTEM.kind().code());
                passed.put(MessageKeys.ACTOR_ID, Actor.SYSTEM.id());
            }
            return passed;
        };
    }

    private static void copy(MetaData from, Map<String, Object> to, String key) {
        if (from.containsKey(key)) {
            to.put(key, from.get(key));
        }
    }
}
