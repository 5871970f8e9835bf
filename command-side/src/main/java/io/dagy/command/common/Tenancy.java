package io.dagy.command.common;

import io.dagy.contracts.identity.MessageKeys;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;

import java.util.Map;

/**
 * Every event names the organization it belongs to. Commands from the REST edge carry it and their events inherit it;
 * commands from backend reports arrive without one. So each aggregate that knows its organization stamps it on the
 * events of the command it handles, whoever sent the command.
 */
public final class Tenancy {

    private Tenancy() {
    }

    /** Events applied from now on in the current unit of work carry {@code org} as {@code org_id}. */
    public static void stamp(Object org) {
        if (org != null && CurrentUnitOfWork.isStarted()) {
            String value = org.toString();
            CurrentUnitOfWork.get().registerCorrelationDataProvider(message -> Map.of(MessageKeys.ORG_ID, value));
        }
    }
}
