#!/bin/sh
# RabbitMQ for docker-compose.yml, with a user of their own for the original clients.
#
# The bridge connects as the administrator (RABBITMQ_DEFAULT_USER). The clients of the original system
# connect as `legacy` (RABBITMQ_LEGACY_PASSWORD), which may only do what a client does:
#   configure  ml_tasks (declare it) and its own server-named reply queues (amq.gen-*);
#   write      the default exchange (publish a task to ml_tasks);
#   read       its own reply queues.
# So a client cannot consume the tasks of others (their texts), read the dead-letter queue or the
# results exchange, or declare anything else. The user is made, or its password and permissions set
# again, each time the broker starts.
set -eu

docker-entrypoint.sh rabbitmq-server &
server=$!
trap 'kill -TERM "$server"; wait "$server"; exit $?' TERM INT  # docker stop: the broker shuts down cleanly

rabbitmqctl await_startup --timeout 120 >/dev/null
if rabbitmqctl list_users --silent | cut -f1 | grep -qx legacy; then
    printf '%s' "$RABBITMQ_LEGACY_PASSWORD" | rabbitmqctl change_password legacy >/dev/null
else
    printf '%s' "$RABBITMQ_LEGACY_PASSWORD" | rabbitmqctl add_user legacy >/dev/null
fi
rabbitmqctl set_permissions -p / legacy '^(ml_tasks|amq\.gen-.*)$' '^amq\.default$' '^amq\.gen-.*$' >/dev/null
echo "rabbitmq: user legacy ready for the original clients"

wait "$server"
