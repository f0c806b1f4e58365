# One image for the worker and the API (docker-compose picks the command).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && node scripts/build-console.mjs --force && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/console/dist ./console/dist
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/policy ./policy
COPY --from=build /app/workflows ./workflows
COPY --from=build /app/domain ./domain
USER node
CMD ["node", "dist/api/main.js"]
