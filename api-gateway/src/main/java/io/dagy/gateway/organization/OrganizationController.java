package io.dagy.gateway.organization;

import io.dagy.contracts.ErrorCode;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.identity.OrganizationCommands.CreateOrganization;
import io.dagy.contracts.identity.OrganizationCommands.DeleteOrganization;
import io.dagy.contracts.identity.OrganizationCommands.PutMember;
import io.dagy.contracts.identity.OrganizationCommands.RemoveMember;
import io.dagy.contracts.identity.OrganizationQueries.MemberView;
import io.dagy.contracts.identity.Role;
import io.dagy.gateway.billing.BillingGuard;
import io.dagy.gateway.problem.ProblemException;
import io.dagy.gateway.security.Caller;
import io.dagy.gateway.security.CallerFilter;
import io.dagy.projection.identity.IdentityDirectory;
import jakarta.servlet.http.HttpServletRequest;
import org.axonframework.commandhandling.CommandExecutionException;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Organizations and their members. A signed-in person creates an organization and becomes its owner; members are
 * managed by admins and owners. Each change is applied to the directory before the response, so it holds on every
 * node from then on.
 */
@RestController
class OrganizationController {

    /** The user id of the identity provider (Clerk: {@code user_...}). */
    private static final Pattern USER_ID = Pattern.compile("[A-Za-z0-9_|@.-]{1,128}");

    private final CommandGateway commands;
    private final IdentityDirectory directory;
    private final EventStore eventStore;
    private final BillingGuard billing;

    OrganizationController(CommandGateway commands, IdentityDirectory directory, EventStore eventStore, BillingGuard billing) {
        this.billing = billing;
        this.commands = commands;
        this.directory = directory;
        this.eventStore = eventStore;
    }

    record CreateRequest(String id, String name) {
    }

    record OrganizationResponse(String id, String name, String role) {
    }

    record MemberRequest(String role) {
    }

    record MemberResponse(String userId, String role) {
        static MemberResponse of(MemberView member) {
            return new MemberResponse(member.userId(), member.role().code());
        }
    }

    record MembersResponse(List<MemberResponse> items) {
    }

    /** Creates an organization owned by the signed-in person: 201. An id taken by another organization is a 409. */
    @PostMapping(path = "/v1/organizations", consumes = "application/json")
    @ResponseStatus(HttpStatus.CREATED)
    OrganizationResponse create(HttpServletRequest request, @RequestBody CreateRequest body) {
        String userId = (String) request.getAttribute(CallerFilter.USER_ATTRIBUTE);
        if (body.id() == null || !OrgId.isValid(body.id())) {
            throw ProblemException.invalid("id", "1-64 of a-z, 0-9 and '-', starting with a letter or digit");
        }
        OrgId org = new OrgId(body.id());
        if (OrgId.DEFAULT.equals(org)) {
            // it owns everything stored before tenancy: nobody may claim it through the API
            throw ProblemException.of(ErrorCode.CONCURRENT_MODIFICATION, "That organization id is reserved.");
        }
        if (directory.organization(org).isPresent() && directory.role(userId, org).isEmpty()) {
            throw ProblemException.of(ErrorCode.CONCURRENT_MODIFICATION, "That organization id is taken.");
        }
        commands.sendAndWait(new CreateOrganization(org, body.name(), userId));
        directory.catchUp(eventStore, org);
        return new OrganizationResponse(org.value(), body.name(), directory.role(userId, org).map(Role::code).orElse(null));
    }

    @GetMapping("/v1/organization")
    OrganizationResponse current(Caller caller) {
        var org = directory.organization(caller.org())
                .orElseThrow(() -> ProblemException.of(ErrorCode.ORGANIZATION_NOT_FOUND, "The organization does not exist."));
        return new OrganizationResponse(org.organization().value(), org.name(), caller.role().code());
    }

    @DeleteMapping("/v1/organization")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void delete(Caller caller) {
        commands.sendAndWait(new DeleteOrganization(caller.org()));
        directory.catchUp(eventStore, caller.org());
    }

    @GetMapping("/v1/organization/members")
    MembersResponse members(Caller caller) {
        return new MembersResponse(directory.members(caller.org()).stream().map(MemberResponse::of).toList());
    }

    /** Adds a member or changes their role. Nobody grants a role above their own. */
    @PutMapping(path = "/v1/organization/members/{userId}", consumes = "application/json")
    MemberResponse putMember(Caller caller, @PathVariable String userId, @RequestBody MemberRequest body) {
        requireUserId(userId);
        Role role = memberRole(body.role());
        if (!caller.role().covers(role)) {
            throw ProblemException.of(ErrorCode.FORBIDDEN, "You cannot grant a role above your own.");
        }
        var existing = directory.role(userId, caller.org());
        existing.ifPresent(current -> {
            if (!caller.role().covers(current)) {
                throw ProblemException.of(ErrorCode.FORBIDDEN, "You cannot change the role of a member above your own.");
            }
        });
        var limit = existing.isPresent() ? billing.limitOf(caller.org(), BillingGuard.Countable.MEMBERS)
                : billing.requireRoomFor(caller.org(), BillingGuard.Countable.MEMBERS, directory.members(caller.org()).size());
        try {
            commands.sendAndWait(new PutMember(caller.org(), userId, role, limit));
        } catch (CommandExecutionException refused) {
            throw billing.refused(refused, BillingGuard.Countable.MEMBERS, limit);
        }
        directory.catchUp(eventStore, caller.org());
        return new MemberResponse(userId, role.code());
    }

    @DeleteMapping("/v1/organization/members/{userId}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void removeMember(Caller caller, @PathVariable String userId) {
        requireUserId(userId);
        directory.role(userId, caller.org()).ifPresent(current -> {
            if (!caller.role().covers(current)) {
                throw ProblemException.of(ErrorCode.FORBIDDEN, "You cannot remove a member whose role is above your own.");
            }
        });
        commands.sendAndWait(new RemoveMember(caller.org(), userId));
        directory.catchUp(eventStore, caller.org());
    }

    private static void requireUserId(String userId) {
        if (!USER_ID.matcher(userId).matches()) {
            throw ProblemException.invalid("user_id", "1-128 of letters, digits and _|@.-");
        }
    }

    static Role memberRole(String code) {
        try {
            Role role = code == null ? null : Role.fromCode(code);
            if (role != null && role.isMemberRole()) {
                return role;
            }
        } catch (IllegalArgumentException unknown) {
            // answered below
        }
        throw ProblemException.invalid("role", "one of viewer, developer, admin, owner");
    }
}
