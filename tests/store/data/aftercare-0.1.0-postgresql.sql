--
-- PostgreSQL database dump
--

\restrict oD7YW4h9TNBw0KFFb7CsJhEuFZsMAlN0FezY0MuYNMwQ3jYvshERYdF9F1bJBsH

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: case; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public."case" (
    id integer NOT NULL,
    status character varying(20) NOT NULL,
    customer_address character varying(320) NOT NULL,
    customer_name character varying(200) NOT NULL,
    subject text NOT NULL,
    owner character varying(320) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    first_response_due_at timestamp without time zone,
    first_response_at timestamp without time zone,
    resolved_at timestamp without time zone,
    closed_at timestamp without time zone,
    cause text NOT NULL,
    extra character varying(20) NOT NULL,
    reopened_count integer NOT NULL,
    checkin_sent_at timestamp without time zone,
    rating_score integer,
    rating_comment text NOT NULL,
    rated_at timestamp without time zone,
    discount_code character varying(200) NOT NULL,
    apology_sent boolean NOT NULL
);


--
-- Name: case_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.case_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: case_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.case_id_seq OWNED BY public."case".id;


--
-- Name: discount_code; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.discount_code (
    id integer NOT NULL,
    code character varying(200) NOT NULL,
    case_id integer,
    issued_at timestamp without time zone,
    added_at timestamp without time zone NOT NULL
);


--
-- Name: discount_code_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.discount_code_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: discount_code_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.discount_code_id_seq OWNED BY public.discount_code.id;


--
-- Name: inbound_failure; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.inbound_failure (
    id integer NOT NULL,
    mailbox character varying(500) NOT NULL,
    uidvalidity bigint NOT NULL,
    uid bigint NOT NULL,
    attempts integer NOT NULL,
    last_error text NOT NULL,
    updated_at timestamp without time zone NOT NULL
);


--
-- Name: inbound_failure_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.inbound_failure_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: inbound_failure_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.inbound_failure_id_seq OWNED BY public.inbound_failure.id;


--
-- Name: mailbox_state; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.mailbox_state (
    id integer NOT NULL,
    name character varying(500) NOT NULL,
    uidvalidity bigint NOT NULL,
    last_uid bigint NOT NULL
);


--
-- Name: mailbox_state_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.mailbox_state_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: mailbox_state_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.mailbox_state_id_seq OWNED BY public.mailbox_state.id;


--
-- Name: message; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.message (
    id integer NOT NULL,
    case_id integer,
    direction character varying(3) NOT NULL,
    kind character varying(40) NOT NULL,
    message_id character varying(998),
    fingerprint character varying(998),
    from_address character varying(320) NOT NULL,
    "to" text NOT NULL,
    recipient character varying(320) NOT NULL,
    subject text NOT NULL,
    text text NOT NULL,
    attachments text NOT NULL,
    note text NOT NULL,
    created_at timestamp without time zone NOT NULL,
    status character varying(10),
    raw text,
    automated boolean NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp without time zone,
    last_error text NOT NULL,
    sent_at timestamp without time zone
);


--
-- Name: message_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.message_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: message_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.message_id_seq OWNED BY public.message.id;


--
-- Name: plan_step; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.plan_step (
    id integer NOT NULL,
    case_id integer NOT NULL,
    number integer NOT NULL,
    text text NOT NULL,
    due_at timestamp without time zone NOT NULL,
    done_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL
);


--
-- Name: plan_step_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.plan_step_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: plan_step_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.plan_step_id_seq OWNED BY public.plan_step.id;


--
-- Name: schema_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_version (
    id integer NOT NULL,
    version integer NOT NULL
);


--
-- Name: schema_version_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.schema_version_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: schema_version_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.schema_version_id_seq OWNED BY public.schema_version.id;


--
-- Name: setting; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.setting (
    key character varying(100) NOT NULL,
    value text NOT NULL
);


--
-- Name: timer; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.timer (
    id integer NOT NULL,
    case_id integer NOT NULL,
    kind character varying(40) NOT NULL,
    step_id integer,
    due_at timestamp without time zone NOT NULL,
    state character varying(10) NOT NULL,
    fired_at timestamp without time zone
);


--
-- Name: timer_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.timer_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: timer_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.timer_id_seq OWNED BY public.timer.id;


--
-- Name: case id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public."case" ALTER COLUMN id SET DEFAULT nextval('public.case_id_seq'::regclass);


--
-- Name: discount_code id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.discount_code ALTER COLUMN id SET DEFAULT nextval('public.discount_code_id_seq'::regclass);


--
-- Name: inbound_failure id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inbound_failure ALTER COLUMN id SET DEFAULT nextval('public.inbound_failure_id_seq'::regclass);


--
-- Name: mailbox_state id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mailbox_state ALTER COLUMN id SET DEFAULT nextval('public.mailbox_state_id_seq'::regclass);


--
-- Name: message id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message ALTER COLUMN id SET DEFAULT nextval('public.message_id_seq'::regclass);


--
-- Name: plan_step id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plan_step ALTER COLUMN id SET DEFAULT nextval('public.plan_step_id_seq'::regclass);


--
-- Name: schema_version id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_version ALTER COLUMN id SET DEFAULT nextval('public.schema_version_id_seq'::regclass);


--
-- Name: timer id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.timer ALTER COLUMN id SET DEFAULT nextval('public.timer_id_seq'::regclass);


--
-- Data for Name: case; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public."case" VALUES (1, 'closed', 'maria@customer.example.net', '', 'Kettle arrived broken', 'jane@example.com', '2026-02-20 09:00:00', '2026-02-28 12:00:00', '2026-02-21 09:00:00', '2026-02-21 11:00:00', '2026-02-21 11:00:00', '2026-02-28 12:00:00', '', '', 0, '2026-02-28 11:00:00', 5, 'thanks, it works', '2026-02-28 12:00:00', 'SORRY-0001', false);
INSERT INTO public."case" VALUES (2, 'open', 'li@customer.example.net', '', 'Order 1234 never arrived', 'jane@example.com', '2026-03-02 09:00:00', '2026-03-02 10:00:00', '2026-03-03 09:00:00', '2026-03-02 10:00:00', NULL, NULL, '', '', 0, NULL, NULL, '', NULL, '', false);
INSERT INTO public."case" VALUES (3, 'resolved', 'sam.k@customer.example.net', '', 'Charged twice', 'jane@example.com', '2026-03-02 09:10:00', '2026-03-02 13:00:00', '2026-03-03 09:10:00', '2026-03-02 11:00:00', '2026-03-02 13:00:00', NULL, '', '', 0, NULL, NULL, '', NULL, '', false);
INSERT INTO public."case" VALUES (4, 'open', 'ana@customer.example.net', '', 'Wrong size', 'jane@example.com', '2026-03-02 14:00:00', '2026-03-02 14:00:00', '2026-03-03 14:00:00', NULL, NULL, NULL, '', '', 0, NULL, NULL, '', NULL, '', false);


--
-- Data for Name: discount_code; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.discount_code VALUES (2, 'SORRY-0002', NULL, NULL, '2026-01-31 09:00:00');
INSERT INTO public.discount_code VALUES (3, 'SORRY-0003', NULL, NULL, '2026-01-31 09:00:00');
INSERT INTO public.discount_code VALUES (1, 'SORRY-0001', 1, '2026-02-28 11:00:00', '2026-01-31 09:00:00');


--
-- Data for Name: inbound_failure; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.inbound_failure VALUES (1, 'support@example.com@imap.example.com:993/INBOX', 1772000000, 8, 1, 'example: a parse error', '2026-03-02 09:00:00');


--
-- Data for Name: mailbox_state; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.mailbox_state VALUES (1, 'support@example.com@imap.example.com:993/INBOX', 1772000000, 7);


--
-- Data for Name: message; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.message VALUES (1, 1, 'in', 'customer', 'complaint1@customer.example.net', 'complaint1@customer.example.net', 'maria@customer.example.net', '["support@example.com"]', '', 'Kettle arrived broken', 'The kettle arrived with a cracked lid.', '[]', 'a new complaint', '2026-02-20 09:00:00', NULL, NULL, false, 0, NULL, '', NULL);
INSERT INTO public.message VALUES (2, 1, 'out', 'acknowledgment', '67c8da67c2927fa778d669e7.case1@example.com', NULL, 'support@example.com', '["maria@customer.example.net"]', 'maria@customer.example.net', 'Re: Kettle arrived broken [Case #1]', 'Hello,

Thank you for writing to us, and for taking the time to tell us what went wrong. I am sorry for the trouble this has caused you. It is not what you should have experienced, and we take it seriously.

My name is Jane Doe, and I am looking after your case personally from now until it is put right. You will hear back from me within 24 hours.

If there is anything you would like to add, or if you can tell me what would put this right for you (a replacement, a refund, a credit, or something else), simply reply to this email. Your reply comes straight to me.

Your reference is Case #1; you will not need it, but it is there if you ever want to mention it.

With thanks for your patience,

Jane Doe
Acme Support
', '[]', '', '2026-02-20 09:00:00', 'sent', 'From: Acme Support <support@example.com>
To: maria@customer.example.net
Subject: Re: Kettle arrived broken [Case #1]
Date: Fri, 20 Feb 2026 09:00:00 +0000
Message-ID: <67c8da67c2927fa778d669e7.case1@example.com>
In-Reply-To: <complaint1@customer.example.net>
References: <complaint1@customer.example.net>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 1
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello,

Thank you for writing to us, and for taking the time to tell us what went w=
rong. I am sorry for the trouble this has caused you. It is not what you sh=
ould have experienced, and we take it seriously.

My name is Jane Doe, and I am looking after your case personally from now u=
ntil it is put right. You will hear back from me within 24 hours.

If there is anything you would like to add, or if you can tell me what woul=
d put this right for you (a replacement, a refund, a credit, or something e=
lse), simply reply to this email. Your reply comes straight to me.

Your reference is Case #1; you will not need it, but it is there if you eve=
r want to mention it.

With thanks for your patience,

Jane Doe
Acme Support
', true, 0, '2026-02-20 09:00:00', '', '2026-02-20 09:01:00');
INSERT INTO public.message VALUES (22, 3, 'in', 'staff', 'staff.3.1772449200@example.com', 'staff.3.1772449200@example.com', 'jane@example.com', '["support+c3.8cf770b1400dbb6e@example.com"]', '', 'Re: Charged twice [Case #3]', '#plan +1d Refund the second charge
Dear customer, we will refund it.', '[]', 'staff reply on the case', '2026-03-02 11:00:00', NULL, NULL, false, 0, NULL, '', NULL);
INSERT INTO public.message VALUES (14, 2, 'out', 'acknowledgment', '216cb2cc04a51df246fc0c7d.case2@example.com', NULL, 'support@example.com', '["li@customer.example.net"]', 'li@customer.example.net', 'Re: Order 1234 never arrived [Case #2]', 'Hello,

Thank you for writing to us, and for taking the time to tell us what went wrong. I am sorry for the trouble this has caused you. It is not what you should have experienced, and we take it seriously.

My name is Jane Doe, and I am looking after your case personally from now until it is put right. You will hear back from me within 24 hours.

If there is anything you would like to add, or if you can tell me what would put this right for you (a replacement, a refund, a credit, or something else), simply reply to this email. Your reply comes straight to me.

Your reference is Case #2; you will not need it, but it is there if you ever want to mention it.

With thanks for your patience,

Jane Doe
Acme Support
', '[]', '', '2026-03-02 09:00:00', 'sent', 'From: Acme Support <support@example.com>
To: li@customer.example.net
Subject: Re: Order 1234 never arrived [Case #2]
Date: Mon, 02 Mar 2026 09:00:00 +0000
Message-ID: <216cb2cc04a51df246fc0c7d.case2@example.com>
In-Reply-To: <complaint2@customer.example.net>
References: <complaint2@customer.example.net>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 2
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello,

Thank you for writing to us, and for taking the time to tell us what went w=
rong. I am sorry for the trouble this has caused you. It is not what you sh=
ould have experienced, and we take it seriously.

My name is Jane Doe, and I am looking after your case personally from now u=
ntil it is put right. You will hear back from me within 24 hours.

If there is anything you would like to add, or if you can tell me what woul=
d put this right for you (a replacement, a refund, a credit, or something e=
lse), simply reply to this email. Your reply comes straight to me.

Your reference is Case #2; you will not need it, but it is there if you eve=
r want to mention it.

With thanks for your patience,

Jane Doe
Acme Support
', true, 0, '2026-03-02 09:00:00', '', '2026-03-02 12:00:00');
INSERT INTO public.message VALUES (3, 1, 'out', 'notification', '4b242796263d9d5821d3eafd.case1@example.com', NULL, 'support@example.com', '["jane@example.com"]', 'jane@example.com', 'New complaint [Case #1]: Kettle arrived broken', 'Jane, a new complaint has arrived and it is yours to own.

Customer:  maria@customer.example.net
Subject:   Kettle arrived broken
Promised:  a reply within 24 hours, by Sat 21 Feb 2026, 09:00 UTC

The customer has been thanked, told that you are looking after it, and promised a reply within 24 hours.

To answer them, reply to this email. What you write above the quoted part goes to the customer from support@example.com, signed with your name, in their conversation.

----- What the customer wrote -----
The kettle arrived with a cracked lid.
', '[]', '', '2026-02-20 09:00:00', 'sent', 'From: Acme Support <support@example.com>
To: Jane Doe <jane@example.com>
Reply-To: support+c1.1c5373dc9f770b89@example.com
Subject: New complaint [Case #1]: Kettle arrived broken
Date: Fri, 20 Feb 2026 09:00:00 +0000
Message-ID: <4b242796263d9d5821d3eafd.case1@example.com>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 1
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Jane, a new complaint has arrived and it is yours to own.

Customer:  maria@customer.example.net
Subject:   Kettle arrived broken
Promised:  a reply within 24 hours, by Sat 21 Feb 2026, 09:00 UTC

The customer has been thanked, told that you are looking after it, and prom=
ised a reply within 24 hours.

To answer them, reply to this email. What you write above the quoted part g=
oes to the customer from support@example.com, signed with your name, in the=
ir conversation.

----- What the customer wrote -----
The kettle arrived with a cracked lid.
', true, 0, '2026-02-20 09:00:00', '', '2026-02-20 09:01:00');
INSERT INTO public.message VALUES (4, 1, 'out', 'escalation', '2a440dc1ade4416a40f22627.case1@example.com', NULL, 'support@example.com', '["jane@example.com"]', 'jane@example.com', 'Escalation: no answer yet on Case #1: Kettle arrived broken [Case #1]', 'We promised maria@customer.example.net an answer within 24 hours, by Sat 21 Feb 2026, 09:00 UTC, and no staff reply has gone out yet.

Case:   Case #1 (Kettle arrived broken)
Owner:  Jane Doe <jane@example.com>

Someone needs to act before the customer has to chase us. The owner can answer by replying to their case email; to take the case over, reply to this email with "#owner <your address>" on the first line.
', '[]', '', '2026-02-21 10:00:00', 'sent', 'From: Acme Support <support@example.com>
To: Jane Doe <jane@example.com>
Reply-To: support+c1.1c5373dc9f770b89@example.com
Subject: Escalation: no answer yet on Case #1: Kettle arrived broken [Case #1]
Date: Sat, 21 Feb 2026 10:00:00 +0000
Message-ID: <2a440dc1ade4416a40f22627.case1@example.com>
In-Reply-To: <4b242796263d9d5821d3eafd.case1@example.com>
References: <4b242796263d9d5821d3eafd.case1@example.com>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 1
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

We promised maria@customer.example.net an answer within 24 hours, by Sat 21=
 Feb 2026, 09:00 UTC, and no staff reply has gone out yet.

Case:   Case #1 (Kettle arrived broken)
Owner:  Jane Doe <jane@example.com>

Someone needs to act before the customer has to chase us. The owner can ans=
wer by replying to their case email; to take the case over, reply to this e=
mail with "#owner <your address>" on the first line.
', true, 0, '2026-02-21 10:00:00', '', '2026-02-21 10:01:00');
INSERT INTO public.message VALUES (5, 1, 'in', 'staff', 'staff.1.1771671600@example.com', 'staff.1.1771671600@example.com', 'jane@example.com', '["support+c1.1c5373dc9f770b89@example.com"]', '', 'Re: Kettle arrived broken [Case #1]', '#resolve
Dear Maria, a new kettle is on its way.', '[]', 'staff reply on the case', '2026-02-21 11:00:00', NULL, NULL, false, 0, NULL, '', NULL);
INSERT INTO public.message VALUES (6, 1, 'out', 'relay', '7f58c9f9580f0965db439ec6.case1@example.com', NULL, 'support@example.com', '["maria@customer.example.net"]', 'maria@customer.example.net', 'Re: Kettle arrived broken [Case #1]', 'Dear Maria, a new kettle is on its way.

--
Jane Doe
Acme Support · Case #1
', '[]', '', '2026-02-21 11:00:00', 'sent', 'From: Acme Support <support@example.com>
To: maria@customer.example.net
Subject: Re: Kettle arrived broken [Case #1]
Date: Sat, 21 Feb 2026 11:00:00 +0000
Message-ID: <7f58c9f9580f0965db439ec6.case1@example.com>
In-Reply-To: <complaint1@customer.example.net>
References: <67c8da67c2927fa778d669e7.case1@example.com> <complaint1@customer.example.net>
X-Loop: support@example.com
X-Aftercare-Case: 1
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Dear Maria, a new kettle is on its way.

--
Jane Doe
Acme Support =C2=B7 Case #1
', false, 0, '2026-02-21 11:00:00', '', '2026-02-21 11:01:00');
INSERT INTO public.message VALUES (7, 1, 'out', 'resolved', '8f06668dbde39c32f1d8761d.case1@example.com', NULL, 'support@example.com', '["maria@customer.example.net"]', 'maria@customer.example.net', 'Re: Kettle arrived broken: resolved [Case #1]', 'Hello,

We believe your case is now resolved. Thank you for your patience while we put this right, and thank you again for telling us about it in the first place: it helps us do better.

If anything is still not as it should be, simply reply to this email and I will pick it up again straight away.

Jane Doe
Acme Support · Case #1
', '[]', '', '2026-02-21 11:00:00', 'sent', 'From: Acme Support <support@example.com>
To: maria@customer.example.net
Subject: Re: Kettle arrived broken: resolved [Case #1]
Date: Sat, 21 Feb 2026 11:00:00 +0000
Message-ID: <8f06668dbde39c32f1d8761d.case1@example.com>
In-Reply-To: <complaint1@customer.example.net>
References: <67c8da67c2927fa778d669e7.case1@example.com> <7f58c9f9580f0965db439ec6.case1@example.com> <complaint1@customer.example.net>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 1
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello,

We believe your case is now resolved. Thank you for your patience while we =
put this right, and thank you again for telling us about it in the first pl=
ace: it helps us do better.

If anything is still not as it should be, simply reply to this email and I =
will pick it up again straight away.

Jane Doe
Acme Support =C2=B7 Case #1
', true, 0, '2026-02-21 11:00:00', '', '2026-02-21 11:01:00');
INSERT INTO public.message VALUES (23, 3, 'out', 'relay', '8ccf6e437b9909240f557897.case3@example.com', NULL, 'support@example.com', '["sam.k@customer.example.net"]', 'sam.k@customer.example.net', 'Re: Charged twice [Case #3]', 'Dear customer, we will refund it.

--
Jane Doe
Acme Support · Case #3
', '[]', '', '2026-03-02 11:00:00', 'sent', 'From: Acme Support <support@example.com>
To: sam.k@customer.example.net
Subject: Re: Charged twice [Case #3]
Date: Mon, 02 Mar 2026 11:00:00 +0000
Message-ID: <8ccf6e437b9909240f557897.case3@example.com>
In-Reply-To: <complaint3@customer.example.net>
References: <ac67efb2a95367c765dfdc84.case3@example.com> <complaint3@customer.example.net>
X-Loop: support@example.com
X-Aftercare-Case: 3
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Dear customer, we will refund it.

--
Jane Doe
Acme Support =C2=B7 Case #3
', false, 0, '2026-03-02 11:00:00', '', '2026-03-02 12:00:00');
INSERT INTO public.message VALUES (24, 3, 'out', 'plan', '709f289a20be729a8f8e4ec6.case3@example.com', NULL, 'support@example.com', '["sam.k@customer.example.net"]', 'sam.k@customer.example.net', 'Re: Charged twice: our plan to put it right [Case #3]', 'Hello,

As promised, here is in writing what we have agreed to do to put this right, and by when:

  1. Refund the second charge
     by Tue 03 Mar 2026, 11:00 UTC

I will keep you posted as each step is done. If anything here is not what we agreed, or a date does not work for you, simply reply to this email and I will sort it out.

Jane Doe
Acme Support · Case #3
', '[]', '', '2026-03-02 11:00:00', 'sent', 'From: Acme Support <support@example.com>
To: sam.k@customer.example.net
Subject: Re: Charged twice: our plan to put it right [Case #3]
Date: Mon, 02 Mar 2026 11:00:00 +0000
Message-ID: <709f289a20be729a8f8e4ec6.case3@example.com>
In-Reply-To: <complaint3@customer.example.net>
References: <ac67efb2a95367c765dfdc84.case3@example.com> <8ccf6e437b9909240f557897.case3@example.com> <complaint3@customer.example.net>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 3
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello,

As promised, here is in writing what we have agreed to do to put this right=
, and by when:

  1. Refund the second charge
     by Tue 03 Mar 2026, 11:00 UTC

I will keep you posted as each step is done. If anything here is not what w=
e agreed, or a date does not work for you, simply reply to this email and I=
 will sort it out.

Jane Doe
Acme Support =C2=B7 Case #3
', true, 0, '2026-03-02 11:00:00', '', '2026-03-02 12:00:00');
INSERT INTO public.message VALUES (8, 1, 'out', 'followup', 'f4ae3d3e4f1a7960a45a8870.case1@example.com', NULL, 'support@example.com', '["maria@customer.example.net"]', 'maria@customer.example.net', 'Re: Kettle arrived broken: is everything working now? [Case #1]', 'Hello,

A couple of days ago we told you your case was resolved. I wanted to check with you personally: is everything now working as we promised?

If it is, there is nothing you need to do. If anything is still not right, simply reply to this email and tell me what is wrong. I will pick it up again straight away, and you will not have to explain it all again.

Jane Doe
Acme Support · Case #1
', '[]', '', '2026-02-23 11:00:00', 'sent', 'From: Acme Support <support@example.com>
To: maria@customer.example.net
Subject: Re: Kettle arrived broken: is everything working now? [Case #1]
Date: Mon, 23 Feb 2026 11:00:00 +0000
Message-ID: <f4ae3d3e4f1a7960a45a8870.case1@example.com>
In-Reply-To: <complaint1@customer.example.net>
References: <67c8da67c2927fa778d669e7.case1@example.com> <7f58c9f9580f0965db439ec6.case1@example.com> <8f06668dbde39c32f1d8761d.case1@example.com> <complaint1@customer.example.net>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 1
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello,

A couple of days ago we told you your case was resolved. I wanted to check =
with you personally: is everything now working as we promised?

If it is, there is nothing you need to do. If anything is still not right, =
simply reply to this email and tell me what is wrong. I will pick it up aga=
in straight away, and you will not have to explain it all again.

Jane Doe
Acme Support =C2=B7 Case #1
', true, 0, '2026-02-23 11:00:00', '', '2026-02-23 11:01:00');
INSERT INTO public.message VALUES (9, 1, 'out', 'checkin', 'dae1215938e8b83b4f28eb1b.case1@example.com', NULL, 'support@example.com', '["maria@customer.example.net"]', 'maria@customer.example.net', 'Re: Kettle arrived broken: how did we do? [Case #1]', 'Hello,

Thank you for giving us the chance to put things right. It matters to us how it felt on your side, so may I ask one thing?

How satisfied are you with how we handled this, from 1 (not at all) to 5 (completely)?

Just reply with the number, for example "4", and add anything you would like to tell us on the same line or below. No link to click, no form to fill in.

As a thank-you, here is 15% off your next order with the code:

    SORRY-0001

Jane Doe
Acme Support · Case #1
', '[]', '', '2026-02-28 11:00:00', 'sent', 'From: Acme Support <support@example.com>
To: maria@customer.example.net
Subject: Re: Kettle arrived broken: how did we do? [Case #1]
Date: Sat, 28 Feb 2026 11:00:00 +0000
Message-ID: <dae1215938e8b83b4f28eb1b.case1@example.com>
In-Reply-To: <complaint1@customer.example.net>
References: <67c8da67c2927fa778d669e7.case1@example.com> <7f58c9f9580f0965db439ec6.case1@example.com> <8f06668dbde39c32f1d8761d.case1@example.com> <f4ae3d3e4f1a7960a45a8870.case1@example.com> <complaint1@customer.example.net>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 1
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello,

Thank you for giving us the chance to put things right. It matters to us ho=
w it felt on your side, so may I ask one thing?

How satisfied are you with how we handled this, from 1 (not at all) to 5 (c=
ompletely)?

Just reply with the number, for example "4", and add anything you would lik=
e to tell us on the same line or below. No link to click, no form to fill i=
n.

As a thank-you, here is 15% off your next order with the code:

    SORRY-0001

Jane Doe
Acme Support =C2=B7 Case #1
', true, 0, '2026-02-28 11:00:00', '', '2026-02-28 11:01:00');
INSERT INTO public.message VALUES (10, 1, 'in', 'rating', 'rating1@customer.example.net', 'rating1@customer.example.net', 'maria@customer.example.net', '["support@example.com"]', '', 'Re: Re: Kettle arrived broken: how did we do? [Case #1]', '5 - thanks, it works', '[]', 'rating 5', '2026-02-28 12:00:00', NULL, NULL, false, 0, NULL, '', NULL);
INSERT INTO public.message VALUES (12, 1, 'out', 'rating_notice', '45b738cf9a1e6fbc80419be5.case1@example.com', NULL, 'support@example.com', '["jane@example.com"]', 'jane@example.com', 'Rated 5/5: Case #1: Kettle arrived broken [Case #1]', 'maria@customer.example.net rated our handling of Case #1 5 out of 5, and the case is now closed.

What they said:
thanks, it works
', '[]', '', '2026-02-28 12:00:00', 'sent', 'From: Acme Support <support@example.com>
To: Jane Doe <jane@example.com>
Reply-To: support+c1.1c5373dc9f770b89@example.com
Subject: Rated 5/5: Case #1: Kettle arrived broken [Case #1]
Date: Sat, 28 Feb 2026 12:00:00 +0000
Message-ID: <45b738cf9a1e6fbc80419be5.case1@example.com>
In-Reply-To: <4b242796263d9d5821d3eafd.case1@example.com>
References: <4b242796263d9d5821d3eafd.case1@example.com>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 1
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

maria@customer.example.net rated our handling of Case #1 5 out of 5, and th=
e case is now closed.

What they said:
thanks, it works
', true, 0, '2026-02-28 12:00:00', '', '2026-02-28 12:01:00');
INSERT INTO public.message VALUES (27, 3, 'out', 'progress', '617bb865cf80dc88b15a5a8a.case3@example.com', NULL, 'support@example.com', '["sam.k@customer.example.net"]', 'sam.k@customer.example.net', 'Re: Charged twice: everything we promised is done [Case #3]', 'Hello,

Every step we agreed is now done. Here is where things stand:

  1. Refund the second charge
     done on Mon 02 Mar 2026

I hope this has put things right for you. If it has not, or if anything is still not as it should be, simply reply and tell me: I will pick it up straight away.

Jane Doe
Acme Support · Case #3
', '[]', '', '2026-03-02 13:00:00', 'pending', 'From: Acme Support <support@example.com>
To: sam.k@customer.example.net
Subject: Re: Charged twice: everything we promised is done [Case #3]
Date: Mon, 02 Mar 2026 13:00:00 +0000
Message-ID: <617bb865cf80dc88b15a5a8a.case3@example.com>
In-Reply-To: <complaint3@customer.example.net>
References: <ac67efb2a95367c765dfdc84.case3@example.com> <8ccf6e437b9909240f557897.case3@example.com> <709f289a20be729a8f8e4ec6.case3@example.com> <04d8e9a1295ede6335f13614.case3@example.com> <complaint3@customer.example.net>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 3
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello,

Every step we agreed is now done. Here is where things stand:

  1. Refund the second charge
     done on Mon 02 Mar 2026

I hope this has put things right for you. If it has not, or if anything is =
still not as it should be, simply reply and tell me: I will pick it up stra=
ight away.

Jane Doe
Acme Support =C2=B7 Case #3
', true, 0, '2026-03-02 13:00:00', '', NULL);
INSERT INTO public.message VALUES (11, 1, 'out', 'rating_thanks', '880653f150498c772face86f.case1@example.com', NULL, 'support@example.com', '["maria@customer.example.net"]', 'maria@customer.example.net', 'Re: Kettle arrived broken: thank you [Case #1]', 'Hello,

Thank you for taking the time to answer, and for the kind words. I have passed your reply on to the team.

If anything ever goes wrong again, simply write to us: we would much rather hear about it than not.

Jane Doe
Acme Support · Case #1
', '[]', '', '2026-02-28 12:00:00', 'sent', 'From: Acme Support <support@example.com>
To: maria@customer.example.net
Subject: Re: Kettle arrived broken: thank you [Case #1]
Date: Sat, 28 Feb 2026 12:00:00 +0000
Message-ID: <880653f150498c772face86f.case1@example.com>
In-Reply-To: <complaint1@customer.example.net>
References: <67c8da67c2927fa778d669e7.case1@example.com> <7f58c9f9580f0965db439ec6.case1@example.com> <8f06668dbde39c32f1d8761d.case1@example.com> <f4ae3d3e4f1a7960a45a8870.case1@example.com> <dae1215938e8b83b4f28eb1b.case1@example.com> <complaint1@customer.example.net>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 1
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello,

Thank you for taking the time to answer, and for the kind words. I have pas=
sed your reply on to the team.

If anything ever goes wrong again, simply write to us: we would much rather=
 hear about it than not.

Jane Doe
Acme Support =C2=B7 Case #1
', true, 0, '2026-02-28 12:00:00', '', '2026-02-28 12:01:00');
INSERT INTO public.message VALUES (13, 2, 'in', 'customer', 'complaint2@customer.example.net', 'complaint2@customer.example.net', 'li@customer.example.net', '["support@example.com"]', '', 'Order 1234 never arrived', 'Where is my order?', '[]', 'a new complaint', '2026-03-02 09:00:00', NULL, NULL, false, 0, NULL, '', NULL);
INSERT INTO public.message VALUES (16, 2, 'in', 'staff', 'staff.2.1772445600@example.com', 'staff.2.1772445600@example.com', 'jane@example.com', '["support+c2.7bf113a622678043@example.com"]', '', 'Re: Order 1234 never arrived [Case #2]', '#plan +3d Trace the parcel with the courier
#plan +5d Refund or resend
Dear Li, here is our plan.', '[]', 'staff reply on the case', '2026-03-02 10:00:00', NULL, NULL, false, 0, NULL, '', NULL);
INSERT INTO public.message VALUES (19, 3, 'in', 'customer', 'complaint3@customer.example.net', 'complaint3@customer.example.net', 'sam.k@customer.example.net', '["support@example.com"]', '', 'Charged twice', 'You charged my card twice.', '[]', 'a new complaint', '2026-03-02 09:10:00', NULL, NULL, false, 0, NULL, '', NULL);
INSERT INTO public.message VALUES (28, 4, 'in', 'customer', 'complaint4@customer.example.net', 'complaint4@customer.example.net', 'ana@customer.example.net', '["support@example.com"]', '', 'Wrong size', 'The shoes are a size too small.', '[]', 'a new complaint', '2026-03-02 14:00:00', NULL, NULL, false, 0, NULL, '', NULL);
INSERT INTO public.message VALUES (29, 4, 'out', 'acknowledgment', 'c919a2e778fb62ca0e97a595.case4@example.com', NULL, 'support@example.com', '["ana@customer.example.net"]', 'ana@customer.example.net', 'Re: Wrong size [Case #4]', 'Hello,

Thank you for writing to us, and for taking the time to tell us what went wrong. I am sorry for the trouble this has caused you. It is not what you should have experienced, and we take it seriously.

My name is Jane Doe, and I am looking after your case personally from now until it is put right. You will hear back from me within 24 hours.

If there is anything you would like to add, or if you can tell me what would put this right for you (a replacement, a refund, a credit, or something else), simply reply to this email. Your reply comes straight to me.

Your reference is Case #4; you will not need it, but it is there if you ever want to mention it.

With thanks for your patience,

Jane Doe
Acme Support
', '[]', '', '2026-03-02 14:00:00', 'pending', 'From: Acme Support <support@example.com>
To: ana@customer.example.net
Subject: Re: Wrong size [Case #4]
Date: Mon, 02 Mar 2026 14:00:00 +0000
Message-ID: <c919a2e778fb62ca0e97a595.case4@example.com>
In-Reply-To: <complaint4@customer.example.net>
References: <complaint4@customer.example.net>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 4
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello,

Thank you for writing to us, and for taking the time to tell us what went w=
rong. I am sorry for the trouble this has caused you. It is not what you sh=
ould have experienced, and we take it seriously.

My name is Jane Doe, and I am looking after your case personally from now u=
ntil it is put right. You will hear back from me within 24 hours.

If there is anything you would like to add, or if you can tell me what woul=
d put this right for you (a replacement, a refund, a credit, or something e=
lse), simply reply to this email. Your reply comes straight to me.

Your reference is Case #4; you will not need it, but it is there if you eve=
r want to mention it.

With thanks for your patience,

Jane Doe
Acme Support
', true, 0, '2026-03-02 14:00:00', '', NULL);
INSERT INTO public.message VALUES (30, 4, 'out', 'notification', '4952b2a344403497a5a3aa3e.case4@example.com', NULL, 'support@example.com', '["jane@example.com"]', 'jane@example.com', 'New complaint [Case #4]: Wrong size', 'Jane, a new complaint has arrived and it is yours to own.

Customer:  ana@customer.example.net
Subject:   Wrong size
Promised:  a reply within 24 hours, by Tue 03 Mar 2026, 14:00 UTC

The customer has been thanked, told that you are looking after it, and promised a reply within 24 hours.

To answer them, reply to this email. What you write above the quoted part goes to the customer from support@example.com, signed with your name, in their conversation.

----- What the customer wrote -----
The shoes are a size too small.
', '[]', '', '2026-03-02 14:00:00', 'pending', 'From: Acme Support <support@example.com>
To: Jane Doe <jane@example.com>
Reply-To: support+c4.e6eecb2c6c9c26e9@example.com
Subject: New complaint [Case #4]: Wrong size
Date: Mon, 02 Mar 2026 14:00:00 +0000
Message-ID: <4952b2a344403497a5a3aa3e.case4@example.com>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 4
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Jane, a new complaint has arrived and it is yours to own.

Customer:  ana@customer.example.net
Subject:   Wrong size
Promised:  a reply within 24 hours, by Tue 03 Mar 2026, 14:00 UTC

The customer has been thanked, told that you are looking after it, and prom=
ised a reply within 24 hours.

To answer them, reply to this email. What you write above the quoted part g=
oes to the customer from support@example.com, signed with your name, in the=
ir conversation.

----- What the customer wrote -----
The shoes are a size too small.
', true, 0, '2026-03-02 14:00:00', '', NULL);
INSERT INTO public.message VALUES (26, 3, 'out', 'relay', '04d8e9a1295ede6335f13614.case3@example.com', NULL, 'support@example.com', '["sam.k@customer.example.net"]', 'sam.k@customer.example.net', 'Re: Charged twice [Case #3]', 'The refund is on its way.

--
Jane Doe
Acme Support · Case #3
', '[]', '', '2026-03-02 13:00:00', 'sending', 'From: Acme Support <support@example.com>
To: sam.k@customer.example.net
Subject: Re: Charged twice [Case #3]
Date: Mon, 02 Mar 2026 13:00:00 +0000
Message-ID: <04d8e9a1295ede6335f13614.case3@example.com>
In-Reply-To: <complaint3@customer.example.net>
References: <ac67efb2a95367c765dfdc84.case3@example.com> <8ccf6e437b9909240f557897.case3@example.com> <709f289a20be729a8f8e4ec6.case3@example.com> <complaint3@customer.example.net>
X-Loop: support@example.com
X-Aftercare-Case: 3
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

The refund is on its way.

--
Jane Doe
Acme Support =C2=B7 Case #3
', false, 0, '2026-03-02 13:00:00', '', NULL);
INSERT INTO public.message VALUES (15, 2, 'out', 'notification', 'c828fc44b76da799445edb28.case2@example.com', NULL, 'support@example.com', '["jane@example.com"]', 'jane@example.com', 'New complaint [Case #2]: Order 1234 never arrived', 'Jane, a new complaint has arrived and it is yours to own.

Customer:  li@customer.example.net
Subject:   Order 1234 never arrived
Promised:  a reply within 24 hours, by Tue 03 Mar 2026, 09:00 UTC

The customer has been thanked, told that you are looking after it, and promised a reply within 24 hours.

To answer them, reply to this email. What you write above the quoted part goes to the customer from support@example.com, signed with your name, in their conversation.

----- What the customer wrote -----
Where is my order?
', '[]', '', '2026-03-02 09:00:00', 'sent', 'From: Acme Support <support@example.com>
To: Jane Doe <jane@example.com>
Reply-To: support+c2.7bf113a622678043@example.com
Subject: New complaint [Case #2]: Order 1234 never arrived
Date: Mon, 02 Mar 2026 09:00:00 +0000
Message-ID: <c828fc44b76da799445edb28.case2@example.com>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 2
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Jane, a new complaint has arrived and it is yours to own.

Customer:  li@customer.example.net
Subject:   Order 1234 never arrived
Promised:  a reply within 24 hours, by Tue 03 Mar 2026, 09:00 UTC

The customer has been thanked, told that you are looking after it, and prom=
ised a reply within 24 hours.

To answer them, reply to this email. What you write above the quoted part g=
oes to the customer from support@example.com, signed with your name, in the=
ir conversation.

----- What the customer wrote -----
Where is my order?
', true, 0, '2026-03-02 09:00:00', '', '2026-03-02 12:00:00');
INSERT INTO public.message VALUES (20, 3, 'out', 'acknowledgment', 'ac67efb2a95367c765dfdc84.case3@example.com', NULL, 'support@example.com', '["sam.k@customer.example.net"]', 'sam.k@customer.example.net', 'Re: Charged twice [Case #3]', 'Hello,

Thank you for writing to us, and for taking the time to tell us what went wrong. I am sorry for the trouble this has caused you. It is not what you should have experienced, and we take it seriously.

My name is Jane Doe, and I am looking after your case personally from now until it is put right. You will hear back from me within 24 hours.

If there is anything you would like to add, or if you can tell me what would put this right for you (a replacement, a refund, a credit, or something else), simply reply to this email. Your reply comes straight to me.

Your reference is Case #3; you will not need it, but it is there if you ever want to mention it.

With thanks for your patience,

Jane Doe
Acme Support
', '[]', '', '2026-03-02 09:10:00', 'sent', 'From: Acme Support <support@example.com>
To: sam.k@customer.example.net
Subject: Re: Charged twice [Case #3]
Date: Mon, 02 Mar 2026 09:10:00 +0000
Message-ID: <ac67efb2a95367c765dfdc84.case3@example.com>
In-Reply-To: <complaint3@customer.example.net>
References: <complaint3@customer.example.net>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 3
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello,

Thank you for writing to us, and for taking the time to tell us what went w=
rong. I am sorry for the trouble this has caused you. It is not what you sh=
ould have experienced, and we take it seriously.

My name is Jane Doe, and I am looking after your case personally from now u=
ntil it is put right. You will hear back from me within 24 hours.

If there is anything you would like to add, or if you can tell me what woul=
d put this right for you (a replacement, a refund, a credit, or something e=
lse), simply reply to this email. Your reply comes straight to me.

Your reference is Case #3; you will not need it, but it is there if you eve=
r want to mention it.

With thanks for your patience,

Jane Doe
Acme Support
', true, 0, '2026-03-02 09:10:00', '', '2026-03-02 12:00:00');
INSERT INTO public.message VALUES (21, 3, 'out', 'notification', '79b8018b6aa5fc694f55f41a.case3@example.com', NULL, 'support@example.com', '["jane@example.com"]', 'jane@example.com', 'New complaint [Case #3]: Charged twice', 'Jane, a new complaint has arrived and it is yours to own.

Customer:  sam.k@customer.example.net
Subject:   Charged twice
Promised:  a reply within 24 hours, by Tue 03 Mar 2026, 09:10 UTC

The customer has been thanked, told that you are looking after it, and promised a reply within 24 hours.

To answer them, reply to this email. What you write above the quoted part goes to the customer from support@example.com, signed with your name, in their conversation.

----- What the customer wrote -----
You charged my card twice.
', '[]', '', '2026-03-02 09:10:00', 'sent', 'From: Acme Support <support@example.com>
To: Jane Doe <jane@example.com>
Reply-To: support+c3.8cf770b1400dbb6e@example.com
Subject: New complaint [Case #3]: Charged twice
Date: Mon, 02 Mar 2026 09:10:00 +0000
Message-ID: <79b8018b6aa5fc694f55f41a.case3@example.com>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 3
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Jane, a new complaint has arrived and it is yours to own.

Customer:  sam.k@customer.example.net
Subject:   Charged twice
Promised:  a reply within 24 hours, by Tue 03 Mar 2026, 09:10 UTC

The customer has been thanked, told that you are looking after it, and prom=
ised a reply within 24 hours.

To answer them, reply to this email. What you write above the quoted part g=
oes to the customer from support@example.com, signed with your name, in the=
ir conversation.

----- What the customer wrote -----
You charged my card twice.
', true, 0, '2026-03-02 09:10:00', '', '2026-03-02 12:00:00');
INSERT INTO public.message VALUES (17, 2, 'out', 'relay', 'b73ea111140f9dcb7e1e5fab.case2@example.com', NULL, 'support@example.com', '["li@customer.example.net"]', 'li@customer.example.net', 'Re: Order 1234 never arrived [Case #2]', 'Dear Li, here is our plan.

--
Jane Doe
Acme Support · Case #2
', '[]', '', '2026-03-02 10:00:00', 'sent', 'From: Acme Support <support@example.com>
To: li@customer.example.net
Subject: Re: Order 1234 never arrived [Case #2]
Date: Mon, 02 Mar 2026 10:00:00 +0000
Message-ID: <b73ea111140f9dcb7e1e5fab.case2@example.com>
In-Reply-To: <complaint2@customer.example.net>
References: <216cb2cc04a51df246fc0c7d.case2@example.com> <complaint2@customer.example.net>
X-Loop: support@example.com
X-Aftercare-Case: 2
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Dear Li, here is our plan.

--
Jane Doe
Acme Support =C2=B7 Case #2
', false, 0, '2026-03-02 10:00:00', '', '2026-03-02 12:00:00');
INSERT INTO public.message VALUES (18, 2, 'out', 'plan', '817dd8a4268b7bb0828450f7.case2@example.com', NULL, 'support@example.com', '["li@customer.example.net"]', 'li@customer.example.net', 'Re: Order 1234 never arrived: our plan to put it right [Case #2]', 'Hello,

As promised, here is in writing what we have agreed to do to put this right, and by when:

  1. Trace the parcel with the courier
     by Thu 05 Mar 2026, 10:00 UTC

  2. Refund or resend
     by Sat 07 Mar 2026, 10:00 UTC

I will keep you posted as each step is done. If anything here is not what we agreed, or a date does not work for you, simply reply to this email and I will sort it out.

Jane Doe
Acme Support · Case #2
', '[]', '', '2026-03-02 10:00:00', 'sent', 'From: Acme Support <support@example.com>
To: li@customer.example.net
Subject: Re: Order 1234 never arrived: our plan to put it right [Case #2]
Date: Mon, 02 Mar 2026 10:00:00 +0000
Message-ID: <817dd8a4268b7bb0828450f7.case2@example.com>
In-Reply-To: <complaint2@customer.example.net>
References: <216cb2cc04a51df246fc0c7d.case2@example.com> <b73ea111140f9dcb7e1e5fab.case2@example.com> <complaint2@customer.example.net>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-Loop: support@example.com
X-Aftercare-Case: 2
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello,

As promised, here is in writing what we have agreed to do to put this right=
, and by when:

  1. Trace the parcel with the courier
     by Thu 05 Mar 2026, 10:00 UTC

  2. Refund or resend
     by Sat 07 Mar 2026, 10:00 UTC

I will keep you posted as each step is done. If anything here is not what w=
e agreed, or a date does not work for you, simply reply to this email and I=
 will sort it out.

Jane Doe
Acme Support =C2=B7 Case #2
', true, 0, '2026-03-02 10:00:00', '', '2026-03-02 12:00:00');
INSERT INTO public.message VALUES (25, 3, 'in', 'staff', 'staff.3.1772456400@example.com', 'staff.3.1772456400@example.com', 'jane@example.com', '["support+c3.8cf770b1400dbb6e@example.com"]', '', 'Re: Charged twice [Case #3]', '#done 1
The refund is on its way.', '[]', 'staff reply on the case', '2026-03-02 13:00:00', NULL, NULL, false, 0, NULL, '', NULL);


--
-- Data for Name: plan_step; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.plan_step VALUES (1, 2, 1, 'Trace the parcel with the courier', '2026-03-05 10:00:00', NULL, '2026-03-02 10:00:00');
INSERT INTO public.plan_step VALUES (2, 2, 2, 'Refund or resend', '2026-03-07 10:00:00', NULL, '2026-03-02 10:00:00');
INSERT INTO public.plan_step VALUES (3, 3, 1, 'Refund the second charge', '2026-03-03 11:00:00', '2026-03-02 13:00:00', '2026-03-02 11:00:00');


--
-- Data for Name: schema_version; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_version VALUES (3, 3);


--
-- Data for Name: setting; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.setting VALUES ('staff_secret', 'aec9b1ad83091f0933e971ddfa9f57a24873d5c524109f5d958d48dc0846f956');


--
-- Data for Name: timer; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.timer VALUES (1, 1, 'first_response', NULL, '2026-02-21 09:00:00', 'fired', '2026-02-21 10:00:00');
INSERT INTO public.timer VALUES (2, 1, 'followup', NULL, '2026-02-23 11:00:00', 'fired', '2026-02-23 11:00:00');
INSERT INTO public.timer VALUES (3, 1, 'checkin', NULL, '2026-02-28 11:00:00', 'fired', '2026-02-28 11:00:00');
INSERT INTO public.timer VALUES (4, 1, 'checkin_close', NULL, '2026-03-14 11:00:00', 'cancelled', NULL);
INSERT INTO public.timer VALUES (5, 2, 'first_response', NULL, '2026-03-03 09:00:00', 'cancelled', NULL);
INSERT INTO public.timer VALUES (6, 2, 'step_reminder', 1, '2026-03-05 08:00:00', 'waiting', NULL);
INSERT INTO public.timer VALUES (7, 2, 'step_overdue', 1, '2026-03-05 10:00:00', 'waiting', NULL);
INSERT INTO public.timer VALUES (8, 2, 'step_escalation', 1, '2026-03-06 10:00:00', 'waiting', NULL);
INSERT INTO public.timer VALUES (9, 2, 'step_reminder', 2, '2026-03-07 08:00:00', 'waiting', NULL);
INSERT INTO public.timer VALUES (10, 2, 'step_overdue', 2, '2026-03-07 10:00:00', 'waiting', NULL);
INSERT INTO public.timer VALUES (11, 2, 'step_escalation', 2, '2026-03-08 10:00:00', 'waiting', NULL);
INSERT INTO public.timer VALUES (12, 3, 'first_response', NULL, '2026-03-03 09:10:00', 'cancelled', NULL);
INSERT INTO public.timer VALUES (13, 3, 'step_reminder', 3, '2026-03-03 09:00:00', 'cancelled', NULL);
INSERT INTO public.timer VALUES (14, 3, 'step_overdue', 3, '2026-03-03 11:00:00', 'cancelled', NULL);
INSERT INTO public.timer VALUES (15, 3, 'step_escalation', 3, '2026-03-04 11:00:00', 'cancelled', NULL);
INSERT INTO public.timer VALUES (16, 3, 'followup', NULL, '2026-03-04 13:00:00', 'waiting', NULL);
INSERT INTO public.timer VALUES (17, 3, 'checkin', NULL, '2026-03-09 13:00:00', 'waiting', NULL);
INSERT INTO public.timer VALUES (18, 4, 'first_response', NULL, '2026-03-03 14:00:00', 'waiting', NULL);


--
-- Name: case_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.case_id_seq', 4, true);


--
-- Name: discount_code_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.discount_code_id_seq', 3, true);


--
-- Name: inbound_failure_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.inbound_failure_id_seq', 1, true);


--
-- Name: mailbox_state_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.mailbox_state_id_seq', 1, true);


--
-- Name: message_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.message_id_seq', 30, true);


--
-- Name: plan_step_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.plan_step_id_seq', 3, true);


--
-- Name: schema_version_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.schema_version_id_seq', 3, true);


--
-- Name: timer_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.timer_id_seq', 18, true);


--
-- Name: case case_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public."case"
    ADD CONSTRAINT case_pkey PRIMARY KEY (id);


--
-- Name: discount_code discount_code_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.discount_code
    ADD CONSTRAINT discount_code_pkey PRIMARY KEY (id);


--
-- Name: inbound_failure inbound_failure_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inbound_failure
    ADD CONSTRAINT inbound_failure_pkey PRIMARY KEY (id);


--
-- Name: mailbox_state mailbox_state_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mailbox_state
    ADD CONSTRAINT mailbox_state_pkey PRIMARY KEY (id);


--
-- Name: message message_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message
    ADD CONSTRAINT message_pkey PRIMARY KEY (id);


--
-- Name: plan_step plan_step_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plan_step
    ADD CONSTRAINT plan_step_pkey PRIMARY KEY (id);


--
-- Name: schema_version schema_version_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_version
    ADD CONSTRAINT schema_version_pkey PRIMARY KEY (id);


--
-- Name: setting setting_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.setting
    ADD CONSTRAINT setting_pkey PRIMARY KEY (key);


--
-- Name: timer timer_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.timer
    ADD CONSTRAINT timer_pkey PRIMARY KEY (id);


--
-- Name: case_customer_address; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX case_customer_address ON public."case" USING btree (customer_address);


--
-- Name: case_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX case_status ON public."case" USING btree (status);


--
-- Name: discount_code_case_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX discount_code_case_id ON public.discount_code USING btree (case_id);


--
-- Name: discount_code_code; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX discount_code_code ON public.discount_code USING btree (code);


--
-- Name: discount_code_issued_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX discount_code_issued_at ON public.discount_code USING btree (issued_at);


--
-- Name: inbound_failure_mailbox_uidvalidity_uid; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX inbound_failure_mailbox_uidvalidity_uid ON public.inbound_failure USING btree (mailbox, uidvalidity, uid);


--
-- Name: mailbox_state_name; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX mailbox_state_name ON public.mailbox_state USING btree (name);


--
-- Name: message_case_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_case_id ON public.message USING btree (case_id);


--
-- Name: message_fingerprint; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX message_fingerprint ON public.message USING btree (fingerprint);


--
-- Name: message_message_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_message_id ON public.message USING btree (message_id);


--
-- Name: message_recipient_automated_created_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_recipient_automated_created_at ON public.message USING btree (recipient, automated, created_at);


--
-- Name: message_status_next_attempt_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_status_next_attempt_at ON public.message USING btree (status, next_attempt_at);


--
-- Name: plan_step_case_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX plan_step_case_id ON public.plan_step USING btree (case_id);


--
-- Name: plan_step_case_id_number; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX plan_step_case_id_number ON public.plan_step USING btree (case_id, number);


--
-- Name: timer_case_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX timer_case_id ON public.timer USING btree (case_id);


--
-- Name: timer_state_due_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX timer_state_due_at ON public.timer USING btree (state, due_at);


--
-- Name: timer_step_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX timer_step_id ON public.timer USING btree (step_id);


--
-- Name: discount_code discount_code_case_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.discount_code
    ADD CONSTRAINT discount_code_case_id_fkey FOREIGN KEY (case_id) REFERENCES public."case"(id) ON DELETE SET NULL;


--
-- Name: message message_case_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message
    ADD CONSTRAINT message_case_id_fkey FOREIGN KEY (case_id) REFERENCES public."case"(id) ON DELETE CASCADE;


--
-- Name: plan_step plan_step_case_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plan_step
    ADD CONSTRAINT plan_step_case_id_fkey FOREIGN KEY (case_id) REFERENCES public."case"(id) ON DELETE CASCADE;


--
-- Name: timer timer_case_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.timer
    ADD CONSTRAINT timer_case_id_fkey FOREIGN KEY (case_id) REFERENCES public."case"(id) ON DELETE CASCADE;


--
-- Name: timer timer_step_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.timer
    ADD CONSTRAINT timer_step_id_fkey FOREIGN KEY (step_id) REFERENCES public.plan_step(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

\unrestrict oD7YW4h9TNBw0KFFb7CsJhEuFZsMAlN0FezY0MuYNMwQ3jYvshERYdF9F1bJBsH

