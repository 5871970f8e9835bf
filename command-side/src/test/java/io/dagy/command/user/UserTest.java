package io.dagy.command.user;

import io.dagy.command.common.DagyCommandTargetResolver;
import io.dagy.contracts.user.UserCommands.DeleteUser;
import io.dagy.contracts.user.UserCommands.RegisterUser;
import io.dagy.contracts.user.UserEvents.UserDeleted;
import io.dagy.contracts.user.UserEvents.UserRegistered;
import io.dagy.contracts.user.UserEvents.UserUpdated;
import io.dagy.contracts.user.UserId;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class UserTest {

    private static final UserId ADA = new UserId("user_2abcDEF123");
    private static final Instant T1 = Instant.parse("2025-01-01T10:00:00Z");
    private static final Instant T2 = T1.plusSeconds(60);

    private AggregateTestFixture<User> fixture;

    @BeforeEach
    void setUp() {
        fixture = new AggregateTestFixture<>(User.class);
        fixture.registerCommandTargetResolver(new DagyCommandTargetResolver(new io.dagy.command.deployment.DeploymentIds(name -> false)));
    }

    @Test
    void registeringAnUnknownUserRegistersThem() {
        fixture.givenNoPriorActivity()
                .when(new RegisterUser(ADA, "ada@example.org", "Ada Lovelace", T1))
                .expectSuccessfulHandlerExecution()
                .expectEvents(new UserRegistered(ADA, "ada@example.org", "Ada Lovelace", T1));
    }

    @Test
    void registeringTheSameProfileAgainChangesNothing() {
        fixture.given(new UserRegistered(ADA, "ada@example.org", "Ada Lovelace", T1))
                .when(new RegisterUser(ADA, "ada@example.org", "Ada Lovelace", T1))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void aNewerProfileWithAnotherEmailUpdatesTheUser() {
        fixture.given(new UserRegistered(ADA, "ada@example.org", "Ada Lovelace", T1))
                .when(new RegisterUser(ADA, "ada@analytical.engine", "Ada Lovelace", T2))
                .expectSuccessfulHandlerExecution()
                .expectEvents(new UserUpdated(ADA, "ada@analytical.engine", "Ada Lovelace", T2));
    }

    @Test
    void aNewerProfileWithNothingDagyKeepsChangedIsIgnored() {
        fixture.given(new UserRegistered(ADA, "ada@example.org", "Ada Lovelace", T1))
                .when(new RegisterUser(ADA, "ada@example.org", "Ada Lovelace", T2))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void anOlderProfileThanTheAppliedOneIsIgnored() {
        fixture.given(new UserRegistered(ADA, "ada@example.org", "Ada Lovelace", T1),
                        new UserUpdated(ADA, "ada@analytical.engine", "Ada Lovelace", T2))
                .when(new RegisterUser(ADA, "ada@example.org", "Ada Lovelace", T1))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void deletingARegisteredUserDeletesThem() {
        fixture.given(new UserRegistered(ADA, "ada@example.org", "Ada Lovelace", T1))
                .when(new DeleteUser(ADA))
                .expectSuccessfulHandlerExecution()
                .expectEvents(new UserDeleted(ADA));
    }

    @Test
    void deletingADeletedUserChangesNothing() {
        fixture.given(new UserRegistered(ADA, "ada@example.org", "Ada Lovelace", T1), new UserDeleted(ADA))
                .when(new DeleteUser(ADA))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void registeringADeletedUserDoesNotBringThemBack() {
        fixture.given(new UserRegistered(ADA, "ada@example.org", "Ada Lovelace", T1), new UserDeleted(ADA))
                .when(new RegisterUser(ADA, "ada@example.org", "Ada Lovelace", T2))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void aDeletionThatArrivesBeforeTheRegistrationLeavesATombstone() {
        fixture.givenNoPriorActivity()
                .when(new DeleteUser(ADA))
                .expectSuccessfulHandlerExecution()
                .expectEvents(new UserDeleted(ADA));
    }

    @Test
    void aRegistrationThatArrivesAfterAnEarlyDeletionIsIgnored() {
        fixture.given(new UserDeleted(ADA))
                .when(new RegisterUser(ADA, "ada@example.org", "Ada Lovelace", T1))
                .expectSuccessfulHandlerExecution()
                .expectNoEvents();
    }

    @Test
    void aUserIdIsTypedAsAnAggregateIdentifierSoItCannotEqualAnotherAggregatesId() {
        assertThat(ADA.toString()).isEqualTo("user:user_2abcDEF123");
        assertThat(new RegisterUser(ADA, null, null, T1).targetAggregateId()).isEqualTo("user:user_2abcDEF123");
        assertThat(new DeleteUser(ADA).targetAggregateId()).isEqualTo("user:user_2abcDEF123");
    }

    @Test
    void aUserIdMustHaveTheProvidersShape() {
        assertThatIllegalArgumentException().isThrownBy(() -> new UserId("2abcDEF123"));
        assertThatIllegalArgumentException().isThrownBy(() -> new UserId("user_"));
        assertThatIllegalArgumentException().isThrownBy(() -> new UserId("user_abc/def"));
        assertThatIllegalArgumentException().isThrownBy(() -> new UserId("user:user_abc"));
        assertThatIllegalArgumentException().isThrownBy(() -> new UserId("user_" + "a".repeat(60)));
        assertThat(new UserId("user_" + "a".repeat(59)).value()).hasSize(64);
    }
}
